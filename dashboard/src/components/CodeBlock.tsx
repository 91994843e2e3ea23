import { CopyButton } from './CopyButton.js'

/** A titled code sample with a copy button. */
export function CodeBlock({ title, code }: { title: string; code: string }) {
  return (
    <section className="code-block">
      <header className="code-head">
        <h3>{title}</h3>
        <CopyButton text={code} describedAs={title} />
      </header>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable code sample must be reachable by keyboard to scroll it (WCAG 2.1.1) */}
      {/* biome-ignore lint/a11y/useAriaPropsSupportedByRole: the focusable sample needs a name when it gets focus */}
      <pre tabIndex={0} aria-label={title}>
        <code>{code}</code>
      </pre>
    </section>
  )
}
