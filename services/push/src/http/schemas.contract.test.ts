import type { ChannelsReply, ErrorBody, HistoryReply, MembersReply, Message, PresenceMember, PublishBody, PublishReply } from '@herald/protocol'
import type { z } from 'zod'
import { describe, expectTypeOf, it } from 'vitest'
import type {
  ChannelsReplySchema,
  ErrorSchema,
  HistoryReplySchema,
  MemberSchema,
  MembersReplySchema,
  MessageSchema,
  PublishBodySchema,
  PublishReplySchema,
} from './schemas.js'

/**
 * The HTTP schemas (which validate requests and generate /openapi.json) describe exactly the
 * wire types of `@herald/protocol` that the SDKs are written against. Checked by the type
 * checker (`npm run typecheck`, and `vitest --typecheck`): a field added, dropped or retyped on
 * one side only fails here.
 */
describe('HTTP schemas match the @herald/protocol types', () => {
  it('Message and presence members', () => {
    expectTypeOf<z.infer<typeof MessageSchema>>().toEqualTypeOf<Message>()
    expectTypeOf<z.infer<typeof MemberSchema>>().toEqualTypeOf<PresenceMember>()
  })

  it('the error body', () => {
    expectTypeOf<z.infer<typeof ErrorSchema>>().toEqualTypeOf<ErrorBody>()
  })

  it('publish body and reply', () => {
    expectTypeOf<z.infer<typeof PublishBodySchema>>().toEqualTypeOf<PublishBody>()
    expectTypeOf<z.infer<typeof PublishReplySchema>>().toEqualTypeOf<PublishReply>()
  })

  it('history, members and channels replies', () => {
    expectTypeOf<z.infer<typeof HistoryReplySchema>>().toEqualTypeOf<HistoryReply>()
    expectTypeOf<z.infer<typeof MembersReplySchema>>().toEqualTypeOf<MembersReply>()
    expectTypeOf<z.infer<typeof ChannelsReplySchema>>().toEqualTypeOf<ChannelsReply>()
  })
})
