/**
 * Answers to a lab's questions (lab.json steps with "question"), stored in the
 * judged directory as .tracelab/answers.json so they travel with the workspace and
 * survive a portal restart. Written atomically (temp file + rename): a check that
 * reads while the page writes sees the old file or the new one, never half.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabManifest } from '../labs';
import { answersFile, readAnswers } from './run';

export const MAX_ANSWER_LENGTH = 200;

export class AnswerError extends Error {
  constructor(public readonly code: 'ANSWER_NO_STEP' | 'ANSWER_NO_QUESTION' | 'ANSWER_INVALID', message: string) {
    super(message);
    this.name = 'AnswerError';
  }
}

/** Normalise an answer for comparison: trimmed, lower case, inner spaces collapsed. */
export function normalizeAnswer(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** Validate and store one answer; returns the stored value. */
export function saveAnswer(lab: LabManifest, dir: string, stepId: string, value: string): string {
  const step = lab.steps.find((s) => s.id === stepId);
  if (!step) {
    const asks = lab.steps.filter((s) => s.question).map((s) => s.id);
    throw new AnswerError('ANSWER_NO_STEP', `lab ${lab.id} has no step '${stepId.slice(0, 60)}' (steps with a question: ${asks.join(', ') || 'none'})`);
  }
  if (!step.question) {
    const asks = lab.steps.filter((s) => s.question).map((s) => s.id);
    throw new AnswerError('ANSWER_NO_QUESTION', `step '${stepId}' of ${lab.id} asks no question (steps with a question: ${asks.join(', ') || 'none'})`);
  }
  const v = value.trim();
  if (!v) throw new AnswerError('ANSWER_INVALID', 'the answer is empty');
  if (v.length > MAX_ANSWER_LENGTH) throw new AnswerError('ANSWER_INVALID', `the answer is longer than ${MAX_ANSWER_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new AnswerError('ANSWER_INVALID', 'the answer contains control characters');

  const file = answersFile(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const all = readAnswers(dir);
  all[stepId] = v;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return v;
}
