export * from './codes.js'
export * from './message.js'
export * from './frames.js'
export * from './cursor.js'
