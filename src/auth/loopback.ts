// Plain http is accepted from identity providers only on this machine (a stand-in in tests, a
// provider on a laptop): everywhere else their answers must come over https.

export function isLoopbackUrl(url: string): boolean {
  const h = new URL(url).hostname;
  return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
}
