import type { ReactNode } from 'react'
import { useLinkClick } from '../lib/router.js'

/** A real link (works with keyboard, middle-click and "open in new tab") that routes in-app. */
export function Link({ to, children, className, current }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const onClick = useLinkClick(to)
  return (
    <a href={to} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  )
}
