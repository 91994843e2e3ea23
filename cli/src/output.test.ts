import { describe, expect, it } from 'vitest'
import { formatMessage, shellExports, table } from './output.js'

describe('output', () => {
  it('prints a message on one line with its position, name and publisher', () => {
    const base = { channel: 'chat', id: 'm_1', seq: 3, epoch: 'e_1', ts: 1, data: { text: 'hi\nthere' } }
    expect(formatMessage({ ...base, name: 'greeting', clientId: 'u1' })).toBe('chat #3 greeting (u1) {"text":"hi\\nthere"}')
    expect(formatMessage({ ...base, data: 42 })).toBe('chat #3 42')
  })

  it('aligns table columns', () => {
    expect(
      table(
        ['id', 'name', 'n'],
        [
          ['app_1', 'shop', '3'],
          ['app_22', 'x', '10'],
        ],
      ),
    ).toBe('id      name  n\napp_1   shop  3\napp_22  x     10')
  })

  it('quotes shell exports safely', () => {
    expect(shellExports({ A: 'plain', B: "it's" })).toBe("export A='plain'\nexport B='it'\\''s'")
  })
})
