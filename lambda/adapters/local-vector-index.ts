/**
 * The local semantic index: vectors in memory, grouped by partition (a lookup only ever scans its
 * own partition, so entries of another scope or conversation are never even compared), kept
 * unit-length so cosine similarity is one dot product, and persisted as an append-only log under
 * the data dir so the cache survives a restart. The log is compacted on open when most of it is
 * dead (deleted or expired entries).
 *
 * A query is a linear scan over a contiguous Float32Array per partition, pruned without losing
 * exactness: with the norm of each vector's tail beyond the first sixteenth (quarter, half) of
 * its dimensions kept beside it, Cauchy-Schwarz bounds what the rest of a dot product can add, so a
 * vector that cannot reach the threshold is mostly dropped after a sixteenth of the work. Most vectors in
 * a partition are far from the query, so a scan costs a fraction of the full multiply-adds
 * (bench/ reports its time and memory at 10k and 100k).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VectorIndex, VectorMatch } from '../core/cache/ports';

const PUT = 1;
const DELETE = 2;

/** Floating-point slack in the pruning bound, so rounding never prunes a vector that reaches the bar. */
const BOUND_SLACK = 1e-4;

/** Where the pruning checks sit in a vector of `dims` dimensions: after a sixteenth, a quarter and half of it. */
const stops = (dims: number): number[] => [Math.max(1, dims >> 4), Math.max(1, dims >> 2), Math.max(1, dims >> 1)];
const STOPS = 3;

/** Norms of the vector's tails after each stop. */
function tailNorms(unit: Float32Array): number[] {
  const at = stops(unit.length);
  const out = new Array<number>(STOPS).fill(0);
  let sum = 0;
  let k = STOPS - 1;
  for (let i = unit.length - 1; i >= 0 && k >= 0; i--) {
    sum += unit[i] * unit[i];
    while (k >= 0 && i === at[k]) out[k--] = Math.sqrt(sum);
  }
  return out;
}

class Partition {
  ids: string[] = [];
  expires: number[] = [];
  vectors: Float32Array;
  /** Per slot, the tail norms after each stop. */
  tails: Float32Array;
  constructor(readonly dims: number) {
    this.vectors = new Float32Array(dims * 16);
    this.tails = new Float32Array(16 * STOPS);
  }
  get size(): number {
    return this.ids.length;
  }
  add(id: string, unit: Float32Array, expiresAt: number): number {
    const slot = this.ids.length;
    if ((slot + 1) * this.dims > this.vectors.length) {
      const grown = new Float32Array(this.vectors.length * 2);
      grown.set(this.vectors);
      this.vectors = grown;
      const tails = new Float32Array(this.tails.length * 2);
      tails.set(this.tails);
      this.tails = tails;
    }
    this.vectors.set(unit, slot * this.dims);
    this.tails.set(tailNorms(unit), slot * STOPS);
    this.ids.push(id);
    this.expires.push(expiresAt);
    return slot;
  }
  /** Remove a slot by moving the last one into it; returns the id that moved (to re-point it). */
  remove(slot: number): string | undefined {
    const last = this.ids.length - 1;
    let moved: string | undefined;
    if (slot !== last) {
      moved = this.ids[last];
      this.ids[slot] = moved;
      this.expires[slot] = this.expires[last];
      this.vectors.copyWithin(slot * this.dims, last * this.dims, (last + 1) * this.dims);
      this.tails.copyWithin(slot * STOPS, last * STOPS, (last + 1) * STOPS);
    }
    this.ids.pop();
    this.expires.pop();
    return moved;
  }
}

/** The vector scaled to unit length; undefined for a zero or non-finite vector (never indexable). */
export function unitVector(v: readonly number[]): Float32Array | undefined {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

export interface LocalVectorIndexOptions {
  /** The log file; in memory only when absent. */
  readonly file?: string;
  readonly now?: () => number;
}

export class LocalVectorIndex implements VectorIndex {
  private readonly partitions = new Map<string, Partition>();
  private readonly where = new Map<string, { partition: string; slot: number }>();
  private fd: number | undefined;
  private logRecords = 0;

  constructor(private readonly opts: LocalVectorIndexOptions = {}) {
    const file = opts.file;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (existsSync(file)) this.replay(readFileSync(file));
    // Rewrite the log when most of it is dead weight, so it grows with live entries only.
    if (this.logRecords > 2 * this.where.size + 1000) this.compact(file);
    this.fd = openSync(file, 'a', 0o600);
  }

  get size(): number {
    return this.where.size;
  }

  async put(id: string, vector: readonly number[], partition: string, expiresAt: number): Promise<void> {
    const unit = unitVector(vector);
    if (!unit) return;
    this.insert(id, unit, partition, expiresAt);
    this.append(encodePut(id, partition, expiresAt, unit));
  }

  async query(vector: readonly number[], partition: string, nowMs: number, minSimilarity = -1): Promise<VectorMatch | undefined> {
    const p = this.partitions.get(partition);
    const q = unitVector(vector);
    if (!p || !q || q.length !== p.dims) return undefined;
    const now = nowMs / 1000;
    const { vectors, dims, expires, tails } = p;
    const [stopA, stopB, stopC] = stops(dims);
    const [qa, qb, qc] = tailNorms(q);
    const count = p.size;
    // The bar rises to the best similarity seen, so later vectors are pruned harder.
    let bar = minSimilarity;
    let bestSlot = -1;
    for (let s = 0, off = 0, t = 0; s < count; s++, off += dims, t += STOPS) {
      if (expires[s] <= now) continue;
      let dot = 0;
      let i = 0;
      for (; i < stopA; i++) dot += vectors[off + i] * q[i];
      if (dot + tails[t] * qa + BOUND_SLACK < bar) continue;
      for (; i < stopB; i++) dot += vectors[off + i] * q[i];
      if (dot + tails[t + 1] * qb + BOUND_SLACK < bar) continue;
      for (; i < stopC; i++) dot += vectors[off + i] * q[i];
      if (dot + tails[t + 2] * qc + BOUND_SLACK < bar) continue;
      for (; i < dims; i++) dot += vectors[off + i] * q[i];
      if (dot >= bar) {
        bar = dot;
        bestSlot = s;
      }
    }
    return bestSlot < 0 ? undefined : { id: p.ids[bestSlot], similarity: Math.min(1, bar) };
  }

  async delete(ids: readonly string[]): Promise<void> {
    const gone = ids.filter((id) => this.remove(id));
    if (gone.length) this.append(encodeDelete(gone));
  }

  /** Release the log file (shutdown). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Bytes held by the vectors (for the bench's memory figures). */
  vectorBytes(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.vectors.byteLength;
    return n;
  }

  private insert(id: string, unit: Float32Array, partition: string, expiresAt: number): void {
    this.remove(id);
    let p = this.partitions.get(partition);
    // A partition's vectors come from one embedding model; a different size means the model changed.
    if (p && p.dims !== unit.length) {
      for (const old of [...p.ids]) this.remove(old);
      p = undefined;
    }
    if (!p) this.partitions.set(partition, (p = new Partition(unit.length)));
    this.where.set(id, { partition, slot: p.add(id, unit, expiresAt) });
  }

  private remove(id: string): boolean {
    const at = this.where.get(id);
    if (!at) return false;
    const p = this.partitions.get(at.partition)!;
    const moved = p.remove(at.slot);
    if (moved) this.where.set(moved, { partition: at.partition, slot: at.slot });
    this.where.delete(id);
    if (p.size === 0) this.partitions.delete(at.partition);
    return true;
  }

  private append(bytes: Buffer): void {
    this.logRecords++;
    if (this.fd !== undefined) writeSync(this.fd, bytes);
  }

  /** Rebuild the index from the log; a torn last record (a crash mid-write) is ignored. */
  private replay(buf: Buffer): void {
    const nowSec = (this.opts.now ?? Date.now)() / 1000;
    let off = 0;
    while (off + 5 <= buf.length) {
      const type = buf[off];
      const metaLen = buf.readUInt32LE(off + 1);
      const metaEnd = off + 5 + metaLen;
      if (metaEnd > buf.length) break;
      let meta: { id?: string; partition?: string; expiresAt?: number; ids?: string[] };
      try {
        meta = JSON.parse(buf.toString('utf8', off + 5, metaEnd));
      } catch {
        break;
      }
      if (type === PUT) {
        if (metaEnd + 4 > buf.length) break;
        const dims = buf.readUInt32LE(metaEnd);
        const end = metaEnd + 4 + dims * 4;
        if (end > buf.length) break;
        const unit = new Float32Array(dims);
        for (let i = 0; i < dims; i++) unit[i] = buf.readFloatLE(metaEnd + 4 + i * 4);
        if ((meta.expiresAt ?? 0) > nowSec) this.insert(meta.id!, unit, meta.partition!, meta.expiresAt!);
        else this.remove(meta.id!);
        off = end;
      } else if (type === DELETE) {
        for (const id of meta.ids ?? []) this.remove(id);
        off = metaEnd;
      } else break;
      this.logRecords++;
    }
  }

  /** Write the live entries to a new log and swap it in atomically. */
  private compact(file: string): void {
    const tmp = `${file}.compact`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (const [partition, p] of this.partitions)
        for (let s = 0; s < p.size; s++) writeSync(fd, encodePut(p.ids[s], partition, p.expires[s], p.vectors.subarray(s * p.dims, (s + 1) * p.dims)));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    this.logRecords = this.where.size;
  }
}

function header(type: number, meta: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32LE(json.length, 1);
  return Buffer.concat([h, json]);
}

function encodePut(id: string, partition: string, expiresAt: number, unit: Float32Array): Buffer {
  const vec = Buffer.alloc(4 + unit.length * 4);
  vec.writeUInt32LE(unit.length, 0);
  for (let i = 0; i < unit.length; i++) vec.writeFloatLE(unit[i], 4 + i * 4);
  return Buffer.concat([header(PUT, { id, partition, expiresAt }), vec]);
}

function encodeDelete(ids: string[]): Buffer {
  return header(DELETE, { ids });
}
