/** Reading the job history in tests: it is written in the background, so a test waits for the record it expects. */
import type { JobHistoryReader, JobRecord } from '../protocol/jobHistory.ts'

/** The job's record once `done` holds for it; rejects after `timeoutMs` with the last record read. */
export async function waitForRecord (history: JobHistoryReader, jobId: string, done: (record: JobRecord) => boolean, timeoutMs = 10_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs
  let last: JobRecord | undefined
  while (Date.now() < deadline) {
    last = await history.get(jobId)
    if (last !== undefined && done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`job ${jobId} not as expected in the history after ${timeoutMs} ms: ${JSON.stringify(last)}`)
}
