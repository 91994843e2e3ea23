import { useEffect, useId, useRef, type ReactNode } from 'react'
import { ErrorNote } from './ErrorNote.js'

export interface ConfirmDialogProps {
  open: boolean
  title: string
  children: ReactNode
  confirmLabel: string
  confirmDisabled?: boolean
  busy?: boolean
  error?: unknown
  danger?: boolean
  onConfirm(): void
  onCancel(): void
}

/** A modal `<dialog>`: focus moves in, Escape cancels, focus returns to the opener on close. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (props.open && !dialog.open) dialog.showModal()
    if (!props.open && dialog.open) dialog.close()
  }, [props.open])
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault()
        props.onCancel()
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault()
          if (!props.confirmDisabled && !props.busy) props.onConfirm()
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        <ErrorNote error={props.error} />
        <div className="actions">
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className={props.danger ? 'button button-danger' : 'button button-primary'} disabled={props.confirmDisabled || props.busy}>
            {props.busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  )
}
