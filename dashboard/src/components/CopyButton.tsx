import { useState } from 'react'
import { copyText } from '../lib/format.js'

/** Copies a value and says so for a moment (also to screen readers). */
export function CopyButton({ text, label = 'Copy', describedAs }: { text: string; label?: string; describedAs?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  return (
    <button
      type="button"
      className="button button-small"
      aria-label={describedAs ? `${label} ${describedAs}` : undefined}
      onClick={async () => {
        setState((await copyText(text)) ? 'copied' : 'failed')
        setTimeout(() => setState('idle'), 2000)
      }}
    >
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}</span>
    </button>
  )
}
