/** Response headers as undici gives them: a repeated header is an array. */
export type Headers = Record<string, string | string[] | undefined>

/** A header's first value. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
