import type { Engine } from '../../engine/engine.js'
import { heraldChannelOf } from './channels.js'

/**
 * What the Pusher HTTP API reports about channels, over the whole cluster and both faces:
 * `subscription_count` is every subscription (Pusher and Herald clients alike) on every node,
 * `user_count` the distinct presence members (Pusher `user_id` = Herald `clientId`).
 * Methods taking a channel take its Pusher name.
 */
export class Occupancy {
  private subscriptions: Promise<Record<string, number>> | undefined

  constructor(
    private readonly engine: Pick<Engine, 'state' | 'members'>,
    private readonly appId: string,
  ) {}

  /** Subscriptions per Herald channel name, read once per request from the cluster state. */
  channels(): Promise<Record<string, number>> {
    this.subscriptions ??= this.engine.state(this.appId).then((s) => s.channels)
    return this.subscriptions
  }

  async subscriptionCount(channel: string): Promise<number> {
    return (await this.channels())[heraldChannelOf(channel)] ?? 0
  }

  async userCount(channel: string): Promise<number> {
    return (await this.engine.members(this.appId, heraldChannelOf(channel))).length
  }

  async userIds(channel: string): Promise<string[]> {
    return (await this.engine.members(this.appId, heraldChannelOf(channel))).map((m) => m.clientId)
  }
}
