import { Client, type ClientOptions } from '@herald/client'
import { createElement, useEffect, useMemo, useRef, type ReactNode } from 'react'
import { HeraldContext } from './context.js'

/** Props of {@link HeraldProvider}: an existing client, or the options to make one. */
export type HeraldProviderProps = { children?: ReactNode } & ({ client: Client } | (ClientOptions & { client?: undefined }))

/**
 * Gives its components one Herald client. With `client`, that one (you own it: the provider
 * never closes it). Otherwise the provider makes a client from the options, connects it when
 * it mounts and closes it when it unmounts; a new `url`, `appId`, `token` or `transports`
 * makes a new client, while `getToken` may change freely (the latest one is called).
 * The other options are read when the client is made.
 *
 * @example
 * <HeraldProvider url="https://push.example.com" appId={appId} getToken={fetchToken}>
 *   <Chat />
 * </HeraldProvider>
 */
export function HeraldProvider(props: HeraldProviderProps) {
  const { children } = props
  const given = props.client
  const options = given ? null : (props as ClientOptions)
  const getToken = useRef(options?.getToken)
  getToken.current = options?.getToken
  const hasGetToken = options?.getToken !== undefined
  const transports = options?.transports?.join(',')

  // biome-ignore lint/correctness/useExhaustiveDependencies: a client is remade only when an identity option changes
  const owned = useMemo(
    () => (options ? ownedClient(options, hasGetToken ? () => (getToken.current as () => Promise<string>)() : undefined) : null),
    [options?.url, options?.appId, options?.token, transports, hasGetToken, given],
  )

  useEffect(() => {
    if (!owned) return
    owned.retain()
    return () => owned.release()
  }, [owned])

  return createElement(HeraldContext.Provider, { value: given ?? owned?.client ?? null }, children)
}

/**
 * A client the provider owns. It is made closed (no socket, no listeners) so a render React
 * throws away leaves nothing behind; the mounted provider connects it. Unmounting closes it
 * one microtask later unless it is mounted again at once (StrictMode's mount-unmount-mount),
 * so StrictMode opens one connection, not two.
 */
function ownedClient(options: ClientOptions, getToken: (() => Promise<string>) | undefined) {
  const client = new Client({ ...options, getToken, autoConnect: false })
  client.close()
  let holders = 0
  return {
    client,
    retain() {
      if (holders++ === 0 && options.autoConnect !== false) client.connect()
    },
    release() {
      if (--holders === 0) queueMicrotask(() => holders === 0 && client.close())
    },
  }
}
