// The server's settings (section `prunemap`, docs/protocol.md): read from initializationOptions and
// workspace/didChangeConfiguration. A bad value is reported (one warning) and its default is used,
// so one typo never stops the server.

import * as path from 'node:path';
import { defaultTarget, getProfile, profileIds } from '../core/latency/profiles';
import { ruleConstants } from '../core/mapper/rules';
import { SETTINGS_SECTION, type LogLevel } from '../protocol/constants';

export interface Settings {
  readonly target: string;
  readonly compression: number;
  readonly blockCandidates?: readonly (readonly [number, number])[];
  readonly outputFolder?: string;
  readonly logLevel: LogLevel;
  readonly maxCachedModels: number;
}

export const defaultSettings: Settings = {
  target: defaultTarget,
  compression: ruleConstants.compression,
  logLevel: 'info',
  maxCachedModels: 8,
};

const logLevels: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/**
 * Settings from a client's object: either the `prunemap` section itself or an object holding it
 * under `prunemap`. Unknown keys are ignored; bad values fall back to their defaults with a warning.
 */
export function parseSettings(raw: unknown, warn: (message: string) => void): Settings {
  const section = isObject(raw) && isObject(raw[SETTINGS_SECTION]) ? raw[SETTINGS_SECTION] : raw;
  if (section === undefined || section === null) return defaultSettings;
  if (!isObject(section)) {
    warn(`settings: "${SETTINGS_SECTION}" must be an object; using the defaults`);
    return defaultSettings;
  }
  const bad = (key: string, why: string, fallback: unknown) => {
    warn(`settings: ${SETTINGS_SECTION}.${key} ${why}; using ${fallback === undefined ? 'none' : JSON.stringify(fallback)}`);
  };
  const s: { -readonly [K in keyof Settings]: Settings[K] } = { ...defaultSettings };

  const { target, compression, blockCandidates, outputFolder, logLevel, maxCachedModels } = section;
  if (target !== undefined && target !== null) {
    if (typeof target === 'string' && getProfile(target)) s.target = target;
    else bad('target', `is ${JSON.stringify(target)}, not a known target (${profileIds.join(', ')})`, defaultSettings.target);
  }
  if (compression !== undefined && compression !== null) {
    if (typeof compression === 'number' && Number.isFinite(compression) && compression > 1) s.compression = compression;
    else bad('compression', `must be a number > 1 (e.g. 4 for 4×), not ${JSON.stringify(compression)}`, defaultSettings.compression);
  }
  if (blockCandidates !== undefined && blockCandidates !== null) {
    const ok = Array.isArray(blockCandidates) && blockCandidates.length > 0 &&
      blockCandidates.every((b) => Array.isArray(b) && b.length === 2 && b.every((x) => Number.isInteger(x) && x > 0));
    if (ok) s.blockCandidates = (blockCandidates as number[][]).map((b) => [b[0], b[1]] as const);
    else bad('blockCandidates', 'must be a non-empty list of [filters, channels] pairs of positive integers, e.g. [[8, 4], [16, 4]]', ruleConstants.blockCandidates);
  }
  if (outputFolder !== undefined && outputFolder !== null && outputFolder !== '') {
    if (typeof outputFolder === 'string') s.outputFolder = outputFolder;
    else bad('outputFolder', 'must be a folder path', undefined);
  }
  if (logLevel !== undefined && logLevel !== null) {
    if (logLevels.includes(logLevel as LogLevel)) s.logLevel = logLevel as LogLevel;
    else bad('logLevel', `must be one of ${logLevels.join(', ')}`, defaultSettings.logLevel);
  }
  if (maxCachedModels !== undefined && maxCachedModels !== null) {
    if (Number.isInteger(maxCachedModels) && (maxCachedModels as number) >= 1) s.maxCachedModels = maxCachedModels as number;
    else bad('maxCachedModels', 'must be an integer ≥ 1', defaultSettings.maxCachedModels);
  }
  return s;
}

/** The folder prune outputs go to for a model: the setting, relative paths taken from the model's folder. */
export function outputFolderFor(settings: Settings, modelPath: string): string | undefined {
  return settings.outputFolder === undefined ? undefined : path.resolve(path.dirname(modelPath), settings.outputFolder);
}

/** A key that changes whenever the rule-based plan would. */
export function mappingKey(settings: Settings): string {
  return JSON.stringify([settings.target, settings.compression, settings.blockCandidates ?? null]);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
