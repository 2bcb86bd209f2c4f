// PostgreSQL NOTIFY channels coder-git processes talk through (so any server replica reaches every runner).

/** Fetch the config repo now: sent by the git webhook and POST /api/v1/runner/refresh; runners LISTEN. */
export const REFRESH_CHANNEL = 'coder_git_refresh';
