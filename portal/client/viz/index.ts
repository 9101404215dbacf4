/**
 * Pictures for a check step's `data` (StepResult.data): histograms, RSS series,
 * flame graph links. This default draws nothing; the labs 3–5 work takes this file
 * over. Contract: return an element to show under the step's message, or null.
 */
export function renderStepData(_data: unknown): HTMLElement | null {
  return null;
}
