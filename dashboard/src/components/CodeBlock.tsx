import { CopyButton } from './CopyButton.js'

/** A titled code sample with a copy button. */
export function CodeBlock({ title, code }: { title: string; code: string }) {
  return (
    <section className="code-block">
      <header className="code-head">
        <h3>{title}</h3>
        <CopyButton text={code} describedAs={title} />
      </header>
      <pre tabIndex={0} aria-label={title}>
        <code>{code}</code>
      </pre>
    </section>
  )
}
