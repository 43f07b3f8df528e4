// The reference API's persistence layer: what the routes import. See README.md, "Database".
export { type Database, type OpenDatabaseOptions, type Orm, openDatabase } from './database.js'
export { DATABASE_URL_FORM, type DatabaseUrlInfo, parseDatabaseUrl } from './database-url.js'
export {
  createMessage,
  deleteMessage,
  deleteOwnMessage,
  getMessage,
  listMessages,
  MAX_MESSAGE_ID,
  MESSAGE_TEXT_MAX_LENGTH,
  type Message,
  type MessageJson,
  messageTextProblem,
  type NewMessage,
  type OwnerWriteResult,
  pageMessages,
  parseMessageId,
  toMessageJson,
  updateMessage,
  updateOwnMessage,
} from './messages.js'
export { MIGRATIONS_FOLDER } from './migrate.js'
export {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  normalizePage,
  type Page,
  type PageResult,
} from './page.js'
export {
  getOrCreateUser,
  listUsers,
  pageUsers,
  SUB_MAX_LENGTH,
  toUserJson,
  type User,
  type UserJson,
  usernameFromSub,
} from './users.js'
export { DataInputError } from './validation.js'
