/**
 * `lintFgl`: what is wrong with a job, as findings with stable codes and positions (fgl/findings.ts). Pure: it
 * lays the job out (fgl/layout.ts) and keeps the findings, in job order. It advises; the relay still prints
 * whatever it is sent.
 */
import type { Finding } from './findings.ts'
import { layoutJob, type LayoutOptions } from './layout.ts'

export function lintFgl (bytes: Uint8Array, options: LayoutOptions = {}): Finding[] {
  return sortFindings(layoutJob(bytes, options).findings)
}

export function sortFindings (findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => a.start - b.start || a.end - b.end)
}

export function hasErrors (findings: Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error')
}
