import * as fs from 'node:fs'
import { request } from 'undici'

/*
 * The summary as a sticky comment on the pull request: one comment per workflow and job, found again by a
 * hidden marker and edited in place, so a pull request shows the latest figures without a new comment per
 * push. Posted by post itself: outputs of a post step reach no later step, so a step after qdc could not.
 */

export interface CommentTarget {
  api: string
  repository: string
  number: number
}

/** The pull request this run belongs to, or null when it is not a pull request's run. */
export function pullRequestOfRun(env: NodeJS.ProcessEnv = process.env): CommentTarget | null {
  if (!['pull_request', 'pull_request_target'].includes(env.GITHUB_EVENT_NAME ?? '') || !env.GITHUB_REPOSITORY) return null
  const number = pullRequestNumber(env)
  return number === null
    ? null
    : { api: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''), repository: env.GITHUB_REPOSITORY, number }
}

function pullRequestNumber(env: NodeJS.ProcessEnv): number | null {
  if (env.GITHUB_EVENT_PATH) {
    try {
      const event = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as { pull_request?: { number?: unknown } }
      if (typeof event.pull_request?.number === 'number') return event.pull_request.number
    } catch {
      // Fall back to the ref.
    }
  }
  const fromRef = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')?.[1]
  return fromRef === undefined ? null : Number(fromRef)
}

/** Creates or edits this job's comment; returns what it did, for the log. Throws on an API error. */
export async function postStickyComment(target: CommentTarget, token: string, markdown: string): Promise<'created' | 'edited'> {
  const marker = `<!-- qdc-action: ${process.env.GITHUB_WORKFLOW ?? 'workflow'} / ${process.env.GITHUB_JOB ?? 'job'} -->`
  const body = `${marker}\n${markdown}`
  const existing = await findComment(target, token, marker)
  if (existing === null) {
    await call(token, 'POST', `${target.api}/repos/${target.repository}/issues/${target.number}/comments`, { body })
    return 'created'
  }
  await call(token, 'PATCH', `${target.api}/repos/${target.repository}/issues/comments/${existing}`, { body })
  return 'edited'
}

async function findComment(target: CommentTarget, token: string, marker: string): Promise<number | null> {
  for (let page = 1; page <= 20; page++) {
    const comments = (await call(
      token,
      'GET',
      `${target.api}/repos/${target.repository}/issues/${target.number}/comments?per_page=100&page=${page}`
    )) as Array<{
      id: number
      body?: string
    }>
    const mine = comments.find(comment => comment.body?.includes(marker))
    if (mine) return mine.id
    if (comments.length < 100) return null
  }
  return null
}

async function call(token: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<unknown> {
  const response = await request(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'qdc-action',
      ...(payload ? { 'content-type': 'application/json' } : {})
    },
    body: payload ? JSON.stringify(payload) : undefined,
    headersTimeout: 30_000,
    bodyTimeout: 30_000
  })
  const text = await response.body.text()
  if (response.statusCode >= 300)
    throw new Error(`${method} ${new URL(url).pathname} answered ${response.statusCode}: ${text.slice(0, 200)}`)
  return text ? (JSON.parse(text) as unknown) : null
}
