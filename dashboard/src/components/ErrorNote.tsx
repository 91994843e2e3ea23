import { describeError } from '../api/api-error.js'

/** An error put into words, announced to screen readers. Renders nothing without an error. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (error === null || error === undefined) return null
  return (
    <p className="note note-error" role="alert">
      {title ? <strong>{title} </strong> : null}
      {describeError(error)}
    </p>
  )
}
