export const id = 117;
export const ids = [117];
export const modules = {

/***/ 8117:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runPost: () => (/* binding */ runPost)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 7 modules
var lib_core = __webpack_require__(3838);
;// CONCATENATED MODULE: ./src/util/capture.ts
/**
 * Runs `work` while copying what @actions/core writes to stdout. @actions/cache reports archive sizes
 * and failure reasons only in its log (saveCache returns just an id), and the ledger needs both.
 * Everything still reaches the runner unchanged.
 */
async function captureLog(work) {
    const lines = [];
    let pending = '';
    const original = process.stdout.write;
    process.stdout.write = function (chunk, ...rest) {
        pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        const complete = pending.split(/\r?\n/);
        pending = complete.pop() ?? '';
        lines.push(...complete);
        return original.call(this, chunk, ...rest);
    };
    try {
        const result = await work();
        return { result, lines: pending ? [...lines, pending] : lines };
    }
    finally {
        process.stdout.write = original;
    }
}

;// CONCATENATED MODULE: ./src/backends/github.ts

/**
 * Loaded on first use: the library and its Azure SDK take ~300 ms to load, which runs on the local
 * backend would pay for nothing.
 */
function loadCacheLibrary() {
    return __webpack_require__.e(/* import() */ 312).then(__webpack_require__.bind(__webpack_require__, 9312));
}
/** The GitHub Actions cache service, through @actions/cache (v2 protocol): no protocol code of our own. */
class GitHubBackend {
    name = 'github';
    async restore(spec, key, restoreKeys) {
        const cache = await loadCacheLibrary();
        const { result: matchedKey, lines } = await captureLog(() => cache.restoreCache(spec.paths.slice(), key, restoreKeys));
        if (matchedKey)
            return { matchedKey, archiveBytes: archiveSize(lines, /^Cache Size: ~\d+ MB \((\d+) B\)$/) };
        // The library swallows faults and returns undefined as for a miss; its warning tells them apart.
        const problem = failure(lines, 'Failed to restore: ');
        if (problem)
            throw new Error(problem);
        return undefined;
    }
    async save(spec, key) {
        const cache = await loadCacheLibrary();
        const { result: id, lines } = await withTarExcludes(spec.exclude, () => captureLog(() => cache.saveCache(spec.paths.slice(), key)));
        if (id === -1)
            throw new Error(failure(lines, 'Failed to save: ') ?? 'the cache service did not accept the entry');
        return { archiveBytes: archiveSize(lines, /^File Size: (\d+)$/) };
    }
}
/** True when the runner gave this job a cache service to talk to. */
async function github_gitHubCacheAvailable() {
    // Without either URL no protocol version can be available; skip loading the library to say so.
    if (!process.env.ACTIONS_RESULTS_URL && !process.env.ACTIONS_CACHE_URL)
        return false;
    return (await loadCacheLibrary()).isFeatureAvailable();
}
function archiveSize(lines, pattern) {
    for (const { text } of lines.map(parseLine)) {
        const match = pattern.exec(text);
        if (match)
            return Number(match[1]);
    }
    return null;
}
/** A workflow-command line as @actions/core wrote it, with its %-escaping undone. */
function parseLine(line) {
    const match = /^::(warning|error|debug)[^:]*::(.*)$/.exec(line);
    if (!match)
        return { command: 'info', text: line.trim() };
    const text = match[2].replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
    return { command: match[1], text };
}
/**
 * The library's reason for a failure, in one line. Its visible message is often generic ("another job
 * may be creating this cache" also stands for 429 and connection refused); the cause is in a debug line.
 */
function failure(lines, prefix) {
    const log = lines.map(parseLine);
    const primary = log.find(l => l.command !== 'debug' && l.text.startsWith(prefix)) ?? log.find(l => l.command === 'warning' || l.command === 'error');
    if (!primary)
        return null;
    const message = firstLine(primary.text.startsWith(prefix) ? primary.text.slice(prefix.length) : primary.text);
    const cause = log.find(l => l.command === 'debug' && l.text.startsWith(RESERVE_CAUSE));
    return cause ? `${message} (${firstLine(cause.text.slice(RESERVE_CAUSE.length))})` : message;
}
const RESERVE_CAUSE = 'Failed to reserve cache: ';
function firstLine(text) {
    return text.split('\n')[0].trim();
}
/**
 * @actions/cache builds its own tar command line; GNU tar also reads TAR_OPTIONS, which is how the
 * kinds' never-archive patterns (tokens, locks, partial downloads) reach it.
 */
async function withTarExcludes(exclude, work) {
    const previous = process.env.TAR_OPTIONS;
    const options = exclude.map(pattern => `--exclude=${pattern.replace(/([\\\s])/g, '\\$1')}`);
    process.env.TAR_OPTIONS = [previous, ...options].filter(Boolean).join(' ');
    try {
        return await work();
    }
    finally {
        if (previous === undefined)
            delete process.env.TAR_OPTIONS;
        else
            process.env.TAR_OPTIONS = previous;
    }
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./node_modules/proper-lockfile/index.js
var proper_lockfile = __webpack_require__(3648);
var proper_lockfile_default = /*#__PURE__*/__webpack_require__.n(proper_lockfile);
;// CONCATENATED MODULE: ./src/util/atomic.ts



/** Temp file beside the target, fsync, rename, fsync the directory: readers see the old file or the new one. */
async function atomic_writeFileAtomic(file, content) {
    await promises_.mkdir(external_node_path_.dirname(file), { recursive: true });
    const temp = `${file}.${external_node_crypto_.randomBytes(6).toString('hex')}.tmp`;
    try {
        const handle = await promises_.open(temp, 'wx', 0o644);
        try {
            await handle.writeFile(content);
            await handle.sync();
        }
        finally {
            await handle.close();
        }
        await promises_.rename(temp, file);
    }
    catch (error) {
        await promises_.rm(temp, { force: true });
        throw error;
    }
    await syncPath(external_node_path_.dirname(file));
}
/**
 * Leaves a file that already holds `content` untouched: rewriting it would change its mtime, which
 * the byte ledger reads as new content to download and save again.
 */
async function writeFileAtomicIfChanged(file, content) {
    const current = await promises_.readFile(file, 'utf8').catch(() => null);
    if (current !== content)
        await atomic_writeFileAtomic(file, content);
}
/** Flushes a file, or a directory's entries (after a rename into it), to disk. */
async function syncPath(target) {
    const handle = await promises_.open(target, 'r');
    try {
        await handle.sync();
    }
    finally {
        await handle.close();
    }
}
/** null when the file does not exist; a file that exists but does not parse is an error worth seeing. */
async function readJson(file) {
    const text = await promises_.readFile(file, 'utf8').catch((error) => {
        if (error.code === 'ENOENT')
            return null;
        throw error;
    });
    return text === null ? null : JSON.parse(text);
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:worker_threads"
var external_node_worker_threads_ = __webpack_require__(5919);
;// CONCATENATED MODULE: ./src/util/hash-pool.ts


/**
 * Hashing runs in worker threads so it overlaps the network, disk and tar work on the main thread and
 * so several files use several cores. The source is plain JavaScript started with `eval` because the
 * action ships as one bundled file per entry point, with no separate worker file to point at.
 */
const WORKER_SOURCE = String.raw `
const { parentPort } = require('node:worker_threads')
const crypto = require('node:crypto')
const fs = require('node:fs')
const READ_CHUNK = 4 * 1024 * 1024
const streams = new Map()

function begin(specs) {
  return specs.map(spec => {
    const hash = crypto.createHash(spec.algorithm)
    if (spec.prefix) hash.update(spec.prefix)
    return hash
  })
}

function readAt(fd, buffer, length, position) {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))))
}

// Two buffers: the next read runs on libuv's pool while this thread hashes the previous one.
async function hashFile(message) {
  const fd = message.path === undefined ? message.fd : fs.openSync(message.path, 'r')
  try {
    const hashes = begin(message.specs)
    const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)]
    const next = (index, position) =>
      position < message.size ? readAt(fd, buffers[index], Math.min(READ_CHUNK, message.size - position), position) : Promise.resolve(0)
    let position = 0
    let index = 0
    let reading = next(index, position)
    for (;;) {
      const bytesRead = await reading
      if (bytesRead === 0) break
      const current = buffers[index].subarray(0, bytesRead)
      position += bytesRead
      index ^= 1
      reading = next(index, position)
      for (const hash of hashes) hash.update(current)
      if (message.progress) parentPort.postMessage({ id: message.id, progress: bytesRead })
    }
    return { digests: hashes.map(hash => hash.digest('hex')), bytesRead: position }
  } finally {
    if (message.path !== undefined) fs.closeSync(fd)
  }
}

function reply(id, work) {
  Promise.resolve()
    .then(work)
    .then(
      result => parentPort.postMessage({ id, result }),
      error => parentPort.postMessage({ id, error: error && error.message ? error.message : String(error) })
    )
}

// A stream whose file read failed keeps the reason and reports it at its digest, instead of throwing
// here: an exception would kill the worker and every other stream it serves.
function failStream(stream, error) {
  if (stream.failure === undefined) stream.failure = error && error.message ? error.message : String(error)
}

// Bytes already on disk, read back in order (out-of-order ranges of a parallel download).
const readBuffer = Buffer.allocUnsafe(READ_CHUNK)
function hashFileRange(stream, file, position, length) {
  const fd = fs.openSync(file, 'r')
  try {
    for (let done = 0; done < length; ) {
      const bytesRead = fs.readSync(fd, readBuffer, 0, Math.min(READ_CHUNK, length - done), position + done)
      if (bytesRead === 0) throw new Error(file + ' ended at ' + (position + done) + ', before the ' + length + ' bytes from ' + position + ' to hash')
      const current = readBuffer.subarray(0, bytesRead)
      for (const hash of stream.hashes) hash.update(current)
      done += bytesRead
    }
  } finally {
    fs.closeSync(fd)
  }
}

parentPort.on('message', message => {
  const stream = streams.get(message.id)
  switch (message.op) {
    case 'begin':
      streams.set(message.id, { hashes: begin(message.specs) })
      break
    case 'update':
      if (stream) for (const chunk of message.chunks) for (const hash of stream.hashes) hash.update(new Uint8Array(chunk))
      parentPort.postMessage({ id: message.id, hashed: message.bytes })
      break
    case 'update-from-file':
      if (stream && stream.failure === undefined) {
        try {
          hashFileRange(stream, message.path, message.position, message.length)
        } catch (error) {
          failStream(stream, error)
        }
      }
      parentPort.postMessage({ id: message.id, hashed: message.length })
      break
    case 'digest':
      reply(message.id, () => {
        streams.delete(message.id)
        if (!stream) return Promise.reject(new Error('digest of a stream that was not begun'))
        if (stream.failure !== undefined) return Promise.reject(new Error(stream.failure))
        return stream.hashes.map(hash => hash.digest('hex'))
      })
      break
    case 'end':
      streams.delete(message.id)
      break
    case 'file':
      reply(message.id, () => hashFile(message))
      break
  }
})
`;
/** Workers start on demand, up to one per core, and never keep the process alive when idle. */
class HashPool {
    workers = [];
    pending = new Map();
    listeners = new Map();
    nextId = 1;
    size;
    constructor(size) {
        this.size = size;
    }
    acquire() {
        let slot = this.workers.reduce((best, w) => (best === undefined || w.load < best.load ? w : best), undefined);
        if (slot === undefined || (slot.load > 0 && this.workers.length < this.size))
            slot = this.spawn();
        if (slot.load++ === 0)
            slot.worker.ref();
        return { slot, id: this.nextId++ };
    }
    release(slot) {
        if (--slot.load === 0)
            slot.worker.unref();
    }
    listen(slot, id, listener) {
        this.listeners.set(id, { ...listener, slot });
    }
    unlisten(id) {
        this.listeners.delete(id);
    }
    request(slot, id, message, onProgress) {
        return new Promise((resolve, reject) => {
            if (slot.failure)
                return reject(slot.failure);
            this.pending.set(id, { slot, resolve: resolve, reject, onProgress });
            slot.worker.postMessage({ ...message, id });
        });
    }
    spawn() {
        // No inherited flags: `--input-type=module` would make the CommonJS source above fail to start.
        const worker = new external_node_worker_threads_.Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
        const slot = { worker, load: 0 };
        worker.on('message', (message) => {
            if (message.hashed !== undefined)
                return this.listeners.get(message.id)?.hashed(message.hashed);
            const waiting = this.pending.get(message.id);
            if (message.progress !== undefined)
                return waiting?.onProgress?.(message.progress);
            this.pending.delete(message.id);
            if (message.error !== undefined)
                waiting?.reject(new Error(message.error));
            else
                waiting?.resolve(message.result);
        });
        worker.on('error', error => this.failAll(slot, error));
        worker.on('exit', code => this.failAll(slot, new Error(`hashing worker exited with code ${code}`)));
        worker.unref();
        this.workers.push(slot);
        return slot;
    }
    /** A dead worker fails what it held (the caller reports it) and is replaced on the next request. */
    failAll(slot, error) {
        slot.failure ??= error;
        if (this.workers.includes(slot))
            this.workers.splice(this.workers.indexOf(slot), 1);
        for (const [id, waiting] of this.pending) {
            if (waiting.slot !== slot)
                continue;
            this.pending.delete(id);
            waiting.reject(slot.failure);
        }
        for (const [id, listener] of this.listeners) {
            if (listener.slot !== slot)
                continue;
            this.listeners.delete(id);
            listener.failed(slot.failure);
        }
    }
}
let shared;
function pool() {
    shared ??= new HashPool(Math.max(1, (0,external_node_os_.availableParallelism)()));
    return shared;
}
/**
 * Digests of bytes fed in order, computed on a worker thread. `update` only posts the bytes, so the
 * caller's next read or write overlaps the hashing; `digests` waits for the worker to catch up. The
 * worker acknowledges what it has hashed, so a fast producer can wait (`caughtUp`) instead of queueing
 * a whole file in the worker's inbox.
 */
class StreamDigest {
    slot;
    id;
    specs;
    closed = false;
    /** Bytes posted and not yet acknowledged. */
    queued = 0;
    failure;
    waiters = [];
    constructor(specs) {
        this.specs = specs;
        ({ slot: this.slot, id: this.id } = pool().acquire());
        pool().listen(this.slot, this.id, { hashed: bytes => this.acknowledged(bytes), failed: error => this.workerFailed(error) });
        this.reset();
    }
    /** Bytes handed over and not yet hashed. */
    get backlog() {
        return this.queued;
    }
    /**
     * Takes the bytes, in order: every chunk that owns its memory is moved to the worker and is empty
     * afterwards. A slice of a larger buffer (Node's shared pool, a socket read holding headers too) is
     * copied, since moving it would take the memory away from whatever else lives in that buffer.
     */
    update(chunks) {
        const list = chunks instanceof Uint8Array ? [chunks] : chunks;
        const buffers = list.map(chunk => (ownsMemory(chunk) ? chunk.buffer : new Uint8Array(chunk).buffer));
        const bytes = list.reduce((sum, chunk) => sum + chunk.byteLength, 0);
        this.queued += bytes;
        this.slot.worker.postMessage({ op: 'update', id: this.id, chunks: buffers, bytes }, buffers);
    }
    /** Hashes `length` bytes of `file` from `position` next, read back by the worker (bytes not kept in memory). */
    updateFromFile(file, position, length) {
        this.queued += length;
        this.slot.worker.postMessage({ op: 'update-from-file', id: this.id, path: file, position, length });
    }
    /** Resolves once at most `limit` bytes wait to be hashed; rejects if the worker died. */
    caughtUp(limit) {
        if (this.failure)
            return Promise.reject(this.failure);
        if (this.queued <= limit)
            return Promise.resolve();
        return new Promise((resolve, reject) => this.waiters.push({ limit, resolve, reject }));
    }
    /** Starts over: at the beginning, after `digests`, or when a server ignored Range and resent the whole body. */
    reset() {
        this.slot.worker.postMessage({ op: 'begin', id: this.id, specs: this.specs });
    }
    /** Hex digests in the order of the specs, once the worker has caught up; `reset` starts a new pass. */
    digests() {
        return pool().request(this.slot, this.id, { op: 'digest' });
    }
    /** Gives the worker back; every StreamDigest must be closed, or its worker keeps the process alive. */
    close() {
        if (this.closed)
            return;
        this.closed = true;
        pool().unlisten(this.id);
        this.workerFailed(new Error('the hash stream was closed'));
        this.slot.worker.postMessage({ op: 'end', id: this.id });
        pool().release(this.slot);
    }
    acknowledged(bytes) {
        this.queued -= bytes;
        const ready = this.waiters.filter(w => this.queued <= w.limit);
        this.waiters = this.waiters.filter(w => this.queued > w.limit);
        for (const waiter of ready)
            waiter.resolve();
    }
    workerFailed(error) {
        this.failure ??= error;
        for (const waiter of this.waiters.splice(0))
            waiter.reject(error);
    }
}
/** True when `chunk` spans its whole ArrayBuffer, which can then be moved to another thread as is. */
function ownsMemory(chunk) {
    return chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.byteLength && chunk.buffer instanceof ArrayBuffer;
}
/**
 * Hashes the first `size` bytes of a file on a worker thread, by path or by an open descriptor (read
 * with positioned reads, so another reader of the same descriptor, such as tar on stdin, is not moved).
 * `onProgress` gets the bytes of each chunk as it is hashed.
 */
async function digestFile(source, size, specs, onProgress) {
    const { slot, id } = pool().acquire();
    try {
        return await pool().request(slot, id, { op: 'file', ...source, size, specs, progress: onProgress !== undefined }, onProgress);
    }
    finally {
        pool().release(slot);
    }
}

;// CONCATENATED MODULE: ./src/report/format.ts
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
/** 0 B, 512 B, 1.50 KiB, 700.0 MiB, 3.20 GiB: about three significant figures. */
function formatBytes(bytes) {
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < UNITS.length - 1) {
        value /= 1024;
        unit++;
    }
    if (unit === 0)
        return `${bytes} B`;
    const digits = value >= 10 ? 1 : 2;
    return `${value.toFixed(digits)} ${UNITS[unit]}`;
}
function formatDuration(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
function formatPercent(percent) {
    return percent === null ? 'n/a' : `${percent.toFixed(percent >= 99.95 || percent === 0 ? 0 : 1)}%`;
}

;// CONCATENATED MODULE: ./src/util/progress.ts

/** Between two progress lines in a log: QDC_PROGRESS_INTERVAL_MS, else `fallbackMs`. */
function progressIntervalMs(fallbackMs = 10_000) {
    const configured = Number(process.env.QDC_PROGRESS_INTERVAL_MS);
    return Number.isFinite(configured) && configured > 0 ? configured : fallbackMs;
}
/** `42% 840.0 MiB of 2.00 GiB, 310.5 MiB/s`: the figures of every progress line and bar. */
function progressFigures(done, total, startedMs) {
    const seconds = Math.max((Date.now() - startedMs) / 1000, 0.001);
    const percent = total > 0 ? Math.floor(Math.min(done / total, 1) * 100) : 100;
    return `${percent}% ${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(Math.round(done / seconds))}/s`;
}
/** `label: 42% 840.0 MiB of 2.00 GiB, 310.5 MiB/s` */
function progressText(label, done, total, startedMs) {
    return `${label}: ${progressFigures(done, total, startedMs)}`;
}
/** A counter fed with byte increments that writes a progress line through `log` at a sane rate. */
function progressLog(label, total, log) {
    const interval = progressIntervalMs();
    const started = Date.now();
    let last = started;
    let done = 0;
    return bytes => {
        done += bytes;
        const now = Date.now();
        if (now - last < interval)
            return;
        last = now;
        log(progressText(label, done, total, started));
    };
}

;// CONCATENATED MODULE: ./src/backends/local.ts








/*
 * Store layout (everything on one filesystem, so every publish is a rename):
 *
 *   <root>/entries/<version>/<sha256(key)>/meta.json          the commit point of an entry
 *   <root>/entries/<version>/<sha256(key)>/<saveId>-<i>.tar.zst  one archive per spec path
 *   <root>/tmp/                                             archives being written
 *   <root>/locks/                                           proper-lockfile lock directories
 *
 * One archive per spec path, made with `tar -C <path> .`, so every member is relative to the
 * directory it is extracted into: there is no index prefix to strip or trust, tar's own refusal of
 * names that leave the directory applies as is, and a path that is missing at save time simply has
 * no archive. Archive names carry the save's random id, so a new save never
 * overwrites an archive the current meta.json refers to; the meta.json rename switches entries.
 */
/** Part of the entry version: bump when the layout or archive format changes so old entries miss. */
const STORE_FORMAT = 1;
const META_FILE = 'meta.json';
const ARCHIVE_NAME = /^[0-9a-f]{16}-\d+\.tar\.zst$/;
/** A save in flight keeps its temp file fresh; anything this old was left by a crash. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** A publish holds an entry lock for a few renames; waiting up to about a minute covers a busy host. */
const LOCK_RETRIES = { retries: 60, factor: 1.3, minTimeout: 50, maxTimeout: 2000 };
/** A directory store for self-hosted runners: entries addressed like GitHub's cache, never the network. */
class LocalStore {
    name = 'local';
    root;
    clock;
    /** Where progress lines of long restores go (the action's log). */
    log;
    constructor(root, clock = Date.now, log = () => undefined) {
        this.root = root;
        this.clock = clock;
        this.log = log;
    }
    async restore(spec, key, restoreKeys) {
        const version = specVersion(spec);
        const found = await this.lookup(version, key, restoreKeys);
        if (!found)
            return undefined;
        const opened = await this.openEntry(version, found.key);
        // Pruned between lookup and open: as good as a miss.
        if (!opened)
            return undefined;
        const { meta, handles } = opened;
        const staged = [];
        try {
            checkPartsMatch(meta, spec);
            // Every part is verified and staged before any is moved in: an entry restores whole or not at all.
            for (const [index, part] of meta.parts.entries()) {
                const progress = progressLog(`Restoring ${spec.paths[index]}`, part.kind === 'missing' ? 0 : part.bytes, this.log);
                const stage = await extractPart(handles[index], part, spec.paths[index], meta.key, progress);
                if (stage)
                    staged.push(stage);
            }
            for (const { restored, target } of staged)
                await moveIntoPlace(restored, target);
        }
        finally {
            await Promise.all(handles.map(handle => handle?.close()));
            await Promise.all(staged.map(({ staging }) => promises_.rm(staging, { recursive: true, force: true })));
        }
        await this.markUsed(version, meta);
        return { matchedKey: meta.key, archiveBytes: entryBytes(meta) };
    }
    async save(spec, key) {
        const kinds = await Promise.all(spec.paths.map(pathKind));
        if (kinds.every(kind => kind === 'missing')) {
            throw new Error(`nothing to save: none of these paths exists: ${spec.paths.join(', ')}`);
        }
        await promises_.mkdir(this.tmpDir, { recursive: true });
        const saveId = external_node_crypto_.randomBytes(8).toString('hex');
        const staged = [];
        try {
            for (const [index, target] of spec.paths.entries()) {
                staged.push(await this.stagePart(target, kinds[index], spec.exclude, `${saveId}-${index}.tar.zst`));
            }
            const now = this.clock();
            const meta = {
                format: STORE_FORMAT,
                key,
                version: specVersion(spec),
                saveId,
                created: now,
                lastUsed: now,
                parts: staged.map(({ part }) => part),
                ...(spec.kind ? { kind: spec.kind } : {})
            };
            await this.publish(meta, staged);
            return { archiveBytes: entryBytes(meta) };
        }
        finally {
            // Published temps were renamed away; these are the ones a failure left behind.
            await Promise.all(staged.map(({ temp }) => temp && promises_.rm(temp, { force: true })));
        }
    }
    /** Every readable entry, most recently used first. */
    async listEntries() {
        const entries = await this.storedEntries();
        return entries.map(({ meta }) => entryInfo(meta)).sort((a, b) => b.lastUsed - a.lastUsed);
    }
    /** Drops entries unused for longer than maxAgeMs, then the least recently used until the store fits maxBytes. */
    async prune(options = {}) {
        await promises_.mkdir(this.locksDir, { recursive: true });
        return withLock(external_node_path_.join(this.locksDir, 'prune'), async () => {
            const doomed = chooseEntriesToPrune(await this.storedEntries(), options, this.clock());
            const removed = [];
            for (const entry of doomed) {
                if (options.dryRun || (await this.removeEntry(entry)))
                    removed.push(entryInfo(entry.meta));
            }
            const orphans = await this.sweepOrphans(options.dryRun ?? false);
            const bytes = [...removed, ...orphans].reduce((sum, item) => sum + item.bytes, 0);
            return { entries: removed, bytes, orphans: orphans.map(orphan => external_node_path_.relative(this.root, orphan.file)) };
        });
    }
    /** Removes every entry `chosen` picks (qdc clear); returns what went. */
    async removeEntries(chosen) {
        const removed = [];
        for (const entry of await this.storedEntries()) {
            const info = entryInfo(entry.meta);
            if (chosen(info) && (await this.removeEntry(entry)))
                removed.push(info);
        }
        return removed;
    }
    /**
     * Re-hashes the archives of the entries `wanted` picks (by key and recorded kind) against their
     * meta.json (qdc verify); the others are not read. An entry whose meta.json does not read is
     * reported by its directory.
     */
    async verifyEntries(wanted = () => true) {
        const checks = [];
        for (const { version, keyHash } of await this.entryDirs()) {
            const dir = this.entryDir(version, keyHash);
            const meta = await readMeta(dir).catch((error) => error);
            if (meta === null)
                continue;
            if (meta instanceof Error) {
                const key = external_node_path_.relative(this.root, dir);
                if (wanted({ key }))
                    checks.push({ key, bytes: 0, problem: meta.message });
                continue;
            }
            if (!wanted(meta))
                continue;
            checks.push({ key: meta.key, kind: meta.kind, bytes: entryBytes(meta), problem: await archivesProblem(dir, meta) });
        }
        return checks;
    }
    /** Removes an entry verifyEntries found corrupt, by key or by directory. */
    async removeCorrupt(check) {
        const dirs = await this.entryDirs();
        for (const { version, keyHash } of dirs) {
            const dir = this.entryDir(version, keyHash);
            if (keyHash !== sha256(check.key) && external_node_path_.relative(this.root, dir) !== check.key)
                continue;
            await this.withEntryLock(version, keyHash, () => promises_.rm(dir, { recursive: true, force: true }));
        }
    }
    get entriesDir() {
        return external_node_path_.join(this.root, 'entries');
    }
    get tmpDir() {
        return external_node_path_.join(this.root, 'tmp');
    }
    get locksDir() {
        return external_node_path_.join(this.root, 'locks');
    }
    entryDir(version, keyHash) {
        return external_node_path_.join(this.entriesDir, version, keyHash);
    }
    /** Lock names come from directory names, so prune can lock an entry whose meta.json is unreadable. */
    async withEntryLock(version, keyHash, work) {
        await promises_.mkdir(this.locksDir, { recursive: true });
        return withLock(external_node_path_.join(this.locksDir, `${version}-${keyHash}`), work);
    }
    /** GitHub's rule: the exact key, else per restore key in order the newest entry it prefixes; same version only. */
    async lookup(version, key, restoreKeys) {
        const exact = await readMeta(this.entryDir(version, sha256(key)), key);
        if (exact)
            return exact;
        if (restoreKeys.length === 0)
            return undefined;
        const candidates = (await this.storedEntries(version)).map(({ meta }) => meta);
        for (const prefix of restoreKeys) {
            const matches = candidates.filter(meta => meta.key.startsWith(prefix));
            if (matches.length > 0)
                return matches.reduce((newest, meta) => (meta.created > newest.created ? meta : newest));
        }
        return undefined;
    }
    /**
     * Reads meta.json and opens every archive under the entry lock: a concurrent publish or prune
     * may unlink the names afterwards, but open descriptors keep the inodes we are about to verify.
     */
    async openEntry(version, key) {
        const keyHash = sha256(key);
        const dir = this.entryDir(version, keyHash);
        return this.withEntryLock(version, keyHash, async () => {
            const meta = await readMeta(dir, key);
            if (!meta)
                return undefined;
            // Indexed like meta.parts; a missing path has no archive and no handle.
            const handles = [];
            try {
                for (const [index, part] of meta.parts.entries()) {
                    if (part.kind !== 'missing')
                        handles[index] = await openArchive(dir, part, key);
                }
            }
            catch (error) {
                await Promise.all(handles.map(handle => handle?.close()));
                throw error;
            }
            return { meta, handles };
        });
    }
    async markUsed(version, restored) {
        const keyHash = sha256(restored.key);
        const dir = this.entryDir(version, keyHash);
        await this.withEntryLock(version, keyHash, async () => {
            const current = await readMeta(dir, restored.key);
            // A save replaced the entry while we extracted: its own lastUsed is newer anyway.
            if (current?.saveId !== restored.saveId)
                return;
            await atomic_writeFileAtomic(external_node_path_.join(dir, META_FILE), JSON.stringify({ ...current, lastUsed: this.clock() }));
        });
    }
    /** Archives one path into a temp file in the store, hashing the bytes on their way to disk. */
    async stagePart(target, kind, exclude, file) {
        if (kind === 'missing')
            return { part: { path: target, kind }, temp: null };
        const temp = external_node_path_.join(this.tmpDir, `${file}.${external_node_crypto_.randomBytes(4).toString('hex')}.tmp`);
        try {
            const { sha256: digest, bytes } = await writeArchive(tarCreateArgs(target, kind, exclude), temp);
            return { part: { path: target, kind, file, sha256: digest, bytes }, temp };
        }
        catch (error) {
            await promises_.rm(temp, { force: true });
            throw error;
        }
    }
    /** Renames the archives in, then meta.json (the commit point); the entry it replaced loses its archives last. */
    async publish(meta, staged) {
        const keyHash = sha256(meta.key);
        const dir = this.entryDir(meta.version, keyHash);
        await this.withEntryLock(meta.version, keyHash, async (assertHeld) => {
            await makeDirDurably(dir);
            const previous = await readMeta(dir, meta.key).catch(() => null);
            for (const item of staged) {
                if (item.temp === null || item.part.kind === 'missing')
                    continue;
                await promises_.rename(item.temp, external_node_path_.join(dir, item.part.file));
                item.temp = null;
            }
            await syncPath(dir);
            assertHeld();
            await atomic_writeFileAtomic(external_node_path_.join(dir, META_FILE), JSON.stringify(meta));
            if (previous)
                await removeArchives(dir, previous);
        });
    }
    /** meta.json goes first, so a crash midway leaves orphan archives for the sweep, never a half entry. */
    async removeEntry(entry) {
        const dir = this.entryDir(entry.version, entry.keyHash);
        return this.withEntryLock(entry.version, entry.keyHash, async () => {
            const current = await readMeta(dir, entry.meta.key).catch(() => null);
            // Republished since we chose it: the fresh entry is not the one the policy condemned.
            if (current?.saveId !== entry.meta.saveId)
                return false;
            await promises_.rm(external_node_path_.join(dir, META_FILE));
            await syncPath(dir);
            await removeArchives(dir, current);
            await promises_.rmdir(dir).catch(ignoreCode('ENOTEMPTY'));
            return true;
        });
    }
    /** Temp files and unreferenced archives older than an hour: what crashed saves and prunes leave. */
    async sweepOrphans(dryRun) {
        const cutoff = this.clock() - ORPHAN_AGE_MS;
        const orphans = await oldFiles(await listDir(this.tmpDir), cutoff);
        if (!dryRun)
            await Promise.all(orphans.map(orphan => promises_.rm(orphan.file, { force: true })));
        for (const { version, keyHash } of await this.entryDirs()) {
            orphans.push(...(await this.sweepEntryDir(version, keyHash, cutoff, dryRun)));
        }
        return orphans;
    }
    async sweepEntryDir(version, keyHash, cutoff, dryRun) {
        const dir = this.entryDir(version, keyHash);
        return this.withEntryLock(version, keyHash, async () => {
            const meta = await readMeta(dir).catch(() => null);
            const referenced = new Set([META_FILE, ...(meta ? archiveFiles(meta) : [])]);
            // An unreadable meta.json can never be restored; once old it is an orphan like the rest.
            const unreferenced = (await listDir(dir)).filter(file => !referenced.has(external_node_path_.basename(file)) || !meta);
            const orphans = await oldFiles(unreferenced, cutoff);
            if (dryRun)
                return orphans;
            await Promise.all(orphans.map(orphan => promises_.rm(orphan.file, { force: true })));
            if (!meta)
                await promises_.rmdir(dir).catch(ignoreCode('ENOTEMPTY', 'ENOENT'));
            return orphans;
        });
    }
    async entryDirs(version) {
        const versions = version ? [version] : await promises_.readdir(this.entriesDir).catch(ignoreCode('ENOENT'));
        const dirs = [];
        for (const v of versions ?? []) {
            const keyHashes = await promises_.readdir(external_node_path_.join(this.entriesDir, v)).catch(ignoreCode('ENOENT'));
            for (const keyHash of keyHashes ?? [])
                dirs.push({ version: v, keyHash });
        }
        return dirs;
    }
    /** Entries whose meta.json reads; one corrupt entry must not hide the others from lookup or prune. */
    async storedEntries(version) {
        const entries = [];
        for (const dir of await this.entryDirs(version)) {
            const meta = await readMeta(this.entryDir(dir.version, dir.keyHash)).catch(() => null);
            if (meta)
                entries.push({ ...dir, meta });
        }
        return entries;
    }
}
async function archivesProblem(dir, meta) {
    for (const part of meta.parts) {
        if (part.kind === 'missing')
            continue;
        const handle = await promises_.open(external_node_path_.join(dir, part.file), 'r').catch(() => null);
        if (!handle)
            return `archive for ${part.path} is missing`;
        try {
            // One byte more than recorded, so an archive that grew is caught too.
            const { digests, bytesRead } = await digestFile({ fd: handle.fd }, part.bytes + 1, [{ algorithm: 'sha256' }]);
            if (bytesRead !== part.bytes)
                return `archive for ${part.path} is ${bytesRead} bytes, ${part.bytes} were written`;
            if (digests[0] !== part.sha256)
                return `archive for ${part.path} does not match its SHA-256`;
        }
        finally {
            await handle.close();
        }
    }
    return null;
}
/** GitHub's notion too: the same key with another set of paths is another entry. */
function specVersion(spec) {
    return sha256(JSON.stringify({ format: STORE_FORMAT, paths: spec.paths, exclude: spec.exclude }));
}
function sha256(text) {
    return external_node_crypto_.createHash('sha256').update(text).digest('hex');
}
function entryBytes(meta) {
    return meta.parts.reduce((sum, part) => sum + (part.kind === 'missing' ? 0 : part.bytes), 0);
}
function entryInfo(meta) {
    return { key: meta.key, kind: meta.kind, version: meta.version, bytes: entryBytes(meta), created: meta.created, lastUsed: meta.lastUsed };
}
function archiveFiles(meta) {
    return meta.parts.flatMap(part => (part.kind === 'missing' ? [] : [part.file]));
}
function corrupt(key, detail) {
    return new Error(`local cache entry "${key}" is corrupt: ${detail}`);
}
/** Age policy first, then least recently used until the rest fits. */
function chooseEntriesToPrune(entries, options, now) {
    const byLastUse = [...entries].sort((a, b) => a.meta.lastUsed - b.meta.lastUsed);
    const { maxAgeMs, maxBytes } = options;
    const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(entry => now - entry.meta.lastUsed > maxAgeMs));
    const kept = byLastUse.filter(entry => !expired.has(entry));
    let total = kept.reduce((sum, entry) => sum + entryBytes(entry.meta), 0);
    const evicted = [];
    for (const entry of kept) {
        if (maxBytes === undefined || total <= maxBytes)
            break;
        evicted.push(entry);
        total -= entryBytes(entry.meta);
    }
    return [...expired, ...evicted];
}
/**
 * The entry's meta.json, null when there is none. The store is writable by other jobs, so
 * everything later used as a file name or extraction plan is checked here.
 */
async function readMeta(dir, label = dir) {
    const file = external_node_path_.join(dir, META_FILE);
    let meta;
    try {
        meta = await readJson(file);
    }
    catch (error) {
        throw corrupt(label, `unreadable ${META_FILE}: ${error.message}`);
    }
    if (meta === null)
        return null;
    const problem = metaProblem(meta, dir);
    if (problem)
        throw corrupt(label, problem);
    return meta;
}
function metaProblem(meta, dir) {
    if (meta.format !== STORE_FORMAT)
        return `unknown format ${String(meta.format)}`;
    // Lookup by prefix reads key and version from meta.json; they must name the directory it sits in.
    if (typeof meta.key !== 'string' || sha256(meta.key) !== external_node_path_.basename(dir))
        return 'key does not match its directory';
    if (meta.version !== external_node_path_.basename(external_node_path_.dirname(dir)))
        return 'version does not match its directory';
    if (!Number.isFinite(meta.created) || !Number.isFinite(meta.lastUsed))
        return 'bad timestamps';
    if (!Array.isArray(meta.parts))
        return 'no parts';
    for (const part of meta.parts) {
        if (part.kind === 'missing')
            continue;
        if (part.kind !== 'tree' && part.kind !== 'file')
            return `unknown part kind ${String(part.kind)}`;
        if (!ARCHIVE_NAME.test(part.file))
            return `bad archive name ${JSON.stringify(part.file)}`;
        if (!/^[0-9a-f]{64}$/.test(part.sha256) || !Number.isSafeInteger(part.bytes))
            return `bad digest or size for ${part.file}`;
    }
    return null;
}
/** The version covers the paths, but meta.json is data from the store: extraction targets come from the spec. */
function checkPartsMatch(meta, spec) {
    if (meta.parts.length !== spec.paths.length)
        throw corrupt(meta.key, `${meta.parts.length} parts for ${spec.paths.length} paths`);
}
async function openArchive(dir, part, key) {
    try {
        return await promises_.open(external_node_path_.join(dir, part.file), 'r');
    }
    catch (error) {
        throw corrupt(key, `archive for ${part.path} cannot be opened: ${error.message}`);
    }
}
async function pathKind(target) {
    try {
        return (await promises_.stat(target)).isDirectory() ? 'tree' : 'file';
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return 'missing';
        throw error;
    }
}
/** A directory's members are `./...` relative to it; a file is archived from its parent under its own name. */
function tarCreateArgs(target, kind, exclude) {
    const [directory, member] = kind === 'tree' ? [target, '.'] : [external_node_path_.dirname(target), external_node_path_.basename(target)];
    return [
        '--format=gnu',
        '--use-compress-program=zstd -T0',
        '-cf',
        '-',
        ...exclude.map(pattern => `--exclude=${pattern}`),
        '-C',
        directory,
        member
    ];
}
async function writeArchive(tarArgs, temp) {
    const handle = await promises_.open(temp, 'wx', 0o444);
    try {
        const tar = (0,external_node_child_process_.spawn)('tar', tarArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: tarEnv() });
        const exited = exitOf(tar, 'tar -c');
        const hash = external_node_crypto_.createHash('sha256');
        let bytes = 0;
        for await (const chunk of tar.stdout) {
            hash.update(chunk);
            bytes += chunk.length;
            // write() may take less than the whole chunk.
            for (let offset = 0; offset < chunk.length;)
                offset += (await handle.write(chunk, offset)).bytesWritten;
        }
        await exited;
        await handle.sync();
        return { sha256: hash.digest('hex'), bytes };
    }
    finally {
        await handle.close();
    }
}
/**
 * Extracts into a staging directory beside the target while hashing the same open file. The caller
 * moves the result into place only once every part verified: a corrupt or hostile archive never
 * touches the target, and a failed restore leaves nothing half written. GNU tar (no -P) already
 * refuses absolute names, `..` and writes through symlinks; a warning that it rewrote a name, or any
 * error, refuses the whole archive.
 */
async function extractPart(handle, part, target, key, onProgress) {
    if (part.kind === 'missing' || !handle)
        return null;
    const { size } = await handle.stat();
    if (size !== part.bytes)
        throw corrupt(key, `archive for ${part.path} is ${size} bytes, ${part.bytes} were written`);
    const staging = await makeStaging(target);
    try {
        const [digest, tarProblem] = await Promise.all([hashHandle(handle, size, onProgress), untar(handle, staging)]);
        if (digest !== part.sha256)
            throw corrupt(key, `archive for ${part.path} does not match its SHA-256`);
        if (tarProblem)
            throw new Error(`local cache entry "${key}" was not restored into ${target}: refused entry: ${tarProblem}`);
    }
    catch (error) {
        await promises_.rm(staging, { recursive: true, force: true });
        throw error;
    }
    const restored = part.kind === 'tree' ? staging : external_node_path_.join(staging, external_node_path_.basename(target));
    return { staging, restored, target };
}
/** Beside the target, so moving the result into place is a rename on the same filesystem. */
async function makeStaging(target) {
    await promises_.mkdir(external_node_path_.dirname(target), { recursive: true });
    return promises_.mkdtemp(external_node_path_.join(external_node_path_.dirname(target), `.${external_node_path_.basename(target)}.qdc-restore-`));
}
/** Positioned reads leave the descriptor's offset at 0 for tar, which reads the same inode through stdin. */
async function hashHandle(handle, size, onProgress) {
    const { digests } = await digestFile({ fd: handle.fd }, size, [{ algorithm: 'sha256' }], onProgress);
    return digests[0];
}
/** GNU tar's warnings that it rewrote or skipped a name that pointed outside the directory. */
const ESCAPE_WARNINGS = /Removing leading|contains '\.\.'|Skipping to next header|Cannot (open|hard link|create)/;
/** null when tar extracted everything as archived, else what it complained about. */
async function untar(handle, directory) {
    // -p: modes exactly as saved rather than filtered through the job's umask.
    const args = ['--use-compress-program=zstd', '--warning=no-timestamp', '--warning=no-unknown-keyword', '-xpf', '-', '-C', directory];
    const tar = (0,external_node_child_process_.spawn)('tar', args, { stdio: [handle.fd, 'ignore', 'pipe'], env: tarEnv() });
    let stderr = '';
    tar.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const code = await new Promise((resolve, reject) => {
        tar.once('error', reject);
        tar.once('close', resolve);
    });
    const complaint = stderr.split('\n').find(line => ESCAPE_WARNINGS.test(line)) ?? stderr.trim().split('\n')[0];
    if (code !== 0)
        return complaint || `tar exited with ${code}`;
    return ESCAPE_WARNINGS.test(stderr) ? complaint : null;
}
/**
 * Renames what was extracted into the target, merging with what is already there: same-named
 * files are replaced (atomically, one rename each), directories merged, and anything on disk that is
 * not a directory (a symlink included) is replaced rather than followed.
 */
async function moveIntoPlace(source, target) {
    const existing = await promises_.lstat(target).catch(ignoreCode('ENOENT'));
    const incoming = await promises_.lstat(source);
    if (existing?.isDirectory() && incoming.isDirectory()) {
        for (const name of await promises_.readdir(source))
            await moveIntoPlace(external_node_path_.join(source, name), external_node_path_.join(target, name));
        return;
    }
    // rename() replaces a file or symlink atomically, but neither puts a directory over a non-directory
    // nor the other way round; fs.rm on a symlink removes the link, never what it points to.
    if (existing && (existing.isDirectory() || incoming.isDirectory()))
        await promises_.rm(target, { recursive: true, force: true });
    await promises_.rename(source, target);
}
/** A user's TAR_OPTIONS (say, --absolute-names) would change what our archives mean. */
function tarEnv() {
    const env = { ...process.env };
    delete env.TAR_OPTIONS;
    return env;
}
function exitOf(child, what) {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
    });
    return handled(new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => {
            if (code === 0)
                resolve();
            else
                reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
        });
    }));
}
/** An exit can fail while the caller still streams; it awaits the promise later, so no unhandled rejection. */
function handled(promise) {
    promise.catch(() => undefined);
    return promise;
}
async function makeDirDurably(dir) {
    const firstCreated = await promises_.mkdir(dir, { recursive: true });
    if (firstCreated === undefined)
        return;
    for (let created = dir; created.length >= firstCreated.length; created = external_node_path_.dirname(created)) {
        await syncPath(external_node_path_.dirname(created));
    }
}
async function removeArchives(dir, meta) {
    await Promise.all(archiveFiles(meta).map(file => promises_.rm(external_node_path_.join(dir, file), { force: true })));
}
async function listDir(dir) {
    const names = await promises_.readdir(dir).catch(ignoreCode('ENOENT'));
    return (names ?? []).map(name => external_node_path_.join(dir, name));
}
async function oldFiles(files, cutoff) {
    const orphans = [];
    for (const file of files) {
        const stat = await promises_.lstat(file).catch(ignoreCode('ENOENT'));
        if (stat?.isFile() && stat.mtimeMs < cutoff)
            orphans.push({ file, bytes: stat.size });
    }
    return orphans;
}
function ignoreCode(...codes) {
    return error => {
        if (!codes.includes(error.code ?? ''))
            throw error;
        return undefined;
    };
}
/**
 * Runs work holding a proper-lockfile lock; a holder that died leaves a lock that goes stale
 * (its mtime stops being refreshed) and is taken over. Losing the lock midway makes
 * assertHeld throw, so the caller does not commit under someone else's feet.
 */
async function withLock(lockPath, work) {
    let lost;
    const release = await proper_lockfile_default().lock(lockPath, {
        realpath: false,
        retries: LOCK_RETRIES,
        onCompromised: error => {
            lost = error;
        }
    });
    try {
        return await work(() => {
            if (lost)
                throw new Error(`lost the lock ${lockPath}: ${lost.message}`);
        });
    }
    finally {
        // A compromised lock counts as released already; releasing again would only throw.
        if (!lost)
            await release();
    }
}

;// CONCATENATED MODULE: ./src/backends/select.ts



/** `auto` is the GitHub cache service when the runner offers one, else the local store. */
async function chooseBackend(config) {
    if (config.backend !== 'auto')
        return config.backend;
    return (await gitHubCacheAvailable()) ? 'github' : 'local';
}
function openBackend(name, config) {
    return name === 'github' ? new GitHubBackend() : new LocalStore(config.localDir, Date.now, line => lib_core/* info */.pq(line));
}

;// CONCATENATED MODULE: ./src/constants.ts
/** Every input, output, state and environment name the action uses, in one place. */
var constants_Inputs;
(function (Inputs) {
    Inputs["Caches"] = "caches";
    Inputs["Paths"] = "paths";
    Inputs["Key"] = "key";
    Inputs["RestoreKeys"] = "restore-keys";
    Inputs["KeyPrefix"] = "key-prefix";
    Inputs["Backend"] = "backend";
    Inputs["LocalDir"] = "local-dir";
    Inputs["LocalMaxAge"] = "local-max-age";
    Inputs["LocalMaxSize"] = "local-max-size";
    Inputs["Save"] = "save";
    Inputs["ReadOnly"] = "read-only";
    Inputs["Summary"] = "summary";
    Inputs["ReportPath"] = "report-path";
    Inputs["PipDependencyFiles"] = "pip-dependency-files";
    Inputs["PodmanDir"] = "podman-dir";
    Inputs["NixDir"] = "nix-dir";
    Inputs["DownloadsDir"] = "downloads-dir";
    Inputs["Models"] = "models";
    Inputs["HfToken"] = "hf-token";
    Inputs["HfEndpoint"] = "hf-endpoint";
    Inputs["HfOffline"] = "hf-offline";
    Inputs["Downloads"] = "downloads";
    Inputs["NixSigningKey"] = "nix-signing-key";
    Inputs["NixPublicKeys"] = "nix-public-keys";
    Inputs["NixTrusted"] = "nix-trusted";
    Inputs["NixMaxSize"] = "nix-max-size";
    Inputs["NixMaxAge"] = "nix-max-age";
    Inputs["LocalMode"] = "local-mode";
    Inputs["ComposeFile"] = "compose-file";
    Inputs["ComposeServices"] = "compose-services";
    Inputs["PodmanBuildArgs"] = "podman-build-args";
    Inputs["Isolation"] = "isolation";
    Inputs["PodmanCacheMode"] = "podman-cache-mode";
    Inputs["DownloadConnections"] = "download-connections";
    Inputs["IdleTimeout"] = "idle-timeout";
})(constants_Inputs || (constants_Inputs = {}));
var Outputs;
(function (Outputs) {
    Outputs["CacheHit"] = "cache-hit";
    Outputs["Hits"] = "hits";
    Outputs["BytesDownloaded"] = "bytes-downloaded";
    Outputs["BytesReused"] = "bytes-reused";
    Outputs["Report"] = "report";
})(Outputs || (Outputs = {}));
var constants_State;
(function (State) {
    /** The parsed configuration and the restore results; empty when main did not finish. */
    State["Run"] = "qdc-run";
})(constants_State || (constants_State = {}));
var constants_Env;
(function (Env) {
    /** Read by `post-if` in action.yml: inputs are not visible there, the environment is. */
    Env["SaveOnFailure"] = "QDC_SAVE_ON_FAILURE";
    /** The service-enforced cache mode (`read`, `write`, `write-only`, `none`). */
    Env["CacheMode"] = "ACTIONS_CACHE_MODE";
    Env["HfEndpoint"] = "HF_ENDPOINT";
    Env["HfHubCache"] = "HF_HUB_CACHE";
    Env["HfHubOffline"] = "HF_HUB_OFFLINE";
    /** Nix's list of user configuration files: where the restored binary cache becomes a substituter. */
    Env["NixUserConfFiles"] = "NIX_USER_CONF_FILES";
    Env["PipCacheDir"] = "PIP_CACHE_DIR";
    /** buildah and podman keep `RUN --mount=type=cache` data under $TMPDIR. */
    Env["TmpDir"] = "TMPDIR";
    /** The process whose life bounds an in-place lease; `qdc run` sets its own pid (see inplace/lease.ts). */
    Env["LeasePid"] = "QDC_LEASE_PID";
})(constants_Env || (constants_Env = {}));
/** Bumped when the archive layout or key scheme changes, so old entries are never misread. */
const constants_KEY_SCHEME = 'v1';
/** Separates a primary key from the revision a save appends: entries are immutable, content is not. */
const constants_REVISION_SEPARATOR = '~r';

;// CONCATENATED MODULE: ./src/ledger.ts
function totals(entries) {
    const downloadedBytes = sum(entries, e => e.downloadedBytes);
    const reusedBytes = sum(entries, e => e.reusedBytes);
    const used = downloadedBytes + reusedBytes;
    return {
        downloadedBytes,
        reusedBytes,
        uploadedBytes: sum(entries, e => e.uploadedBytes),
        reusedPercent: used === 0 ? null : (reusedBytes / used) * 100
    };
}
/** 'true' only when every enabled kind hit exactly. */
function allExact(entries) {
    return entries.length > 0 && entries.every(e => e.hit === 'exact');
}
function hitsByKind(entries) {
    return Object.fromEntries(entries.map(e => [e.kind, e.hit]));
}
function sum(entries, figure) {
    return entries.reduce((total, e) => total + figure(e), 0);
}

;// CONCATENATED MODULE: ./src/util/errors.ts
/** Turns anything thrown into a message fit for one log line. */
function errors_stringifyError(error) {
    if (error instanceof Error)
        return error.message;
    if (typeof error === 'string')
        return error;
    return JSON.stringify(error);
}

;// CONCATENATED MODULE: ./src/report/report.ts


/** The JSON report (version 1): the ledger as machine-readable figures a PR check can trust. */
function buildReport(entries) {
    const { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent } = totals(entries);
    return {
        version: 1,
        caches: entries.map(e => ({
            kind: e.kind,
            backend: e.backend,
            key: e.key,
            matchedKey: e.matchedKey,
            hit: e.hit,
            restoredBytes: e.restoredBytes,
            restoredArchiveBytes: e.restoredArchiveBytes,
            downloadedBytes: e.downloadedBytes,
            reusedBytes: e.reusedBytes,
            uploadedBytes: e.uploadedBytes,
            saved: e.saved,
            problems: e.problems,
            restoreMs: Math.round(e.restoreMs),
            saveMs: Math.round(e.saveMs),
            ...(e.nix ? { nix: e.nix } : {}),
            ...(e.services ? { services: e.services } : {})
        })),
        totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent }
    };
}
async function writeReport(file, entries) {
    await atomic_writeFileAtomic(file, JSON.stringify(buildReport(entries), null, 2) + '\n');
}

;// CONCATENATED MODULE: ./src/report/summary.ts


const SAVE_LABELS = {
    saved: 'saved',
    unchanged: 'unchanged, not uploaded',
    'read-only': 'read-only',
    disabled: 'save: never',
    empty: 'nothing to save',
    failed: '⚠️ failed',
    pending: 'not run'
};
const HIT_LABELS = { exact: '✅ exact', partial: '🟡 partial', miss: '❌ miss' };
/** The job summary, rendered from the ledger alone (GitHub-flavoured Markdown). */
function renderSummary(entries) {
    const sums = totals(entries);
    const lines = [
        '## qdc-action: bytes downloaded vs reused',
        '',
        '| Cache | Hit | Matched key | Restored | Downloaded | Reused | Uploaded | Save | Time |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
        ...entries.map(renderRow),
        '',
        `**Total: downloaded ${formatBytes(sums.downloadedBytes)}, reused ${formatBytes(sums.reusedBytes)} (${formatPercent(sums.reusedPercent)} from cache)**` +
            (sums.uploadedBytes > 0 ? `; uploaded ${formatBytes(sums.uploadedBytes)}` : '')
    ];
    const services = entries.flatMap(e => e.services ?? []);
    if (services.length > 0)
        lines.push('', ...renderServices(services));
    const files = entries.flatMap(e => e.files ?? []);
    if (files.length > 0)
        lines.push('', ...renderFiles(files));
    for (const e of entries)
        if (e.nix)
            lines.push('', ...renderNix(e.nix));
    const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`));
    if (problems.length > 0)
        lines.push('', ...problems);
    return lines.join('\n') + '\n';
}
/** One row per service podman-compose built: steps and bytes the layer cache provided. */
function renderServices(services) {
    return [
        '| Service (image) | Steps from cache | Built | Layers reused | Layers pushed | Base images reused | Base images pulled | Build time |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...services.map(s => {
            const named = `${escapeCell(s.service)} (\`${escapeCell(s.image)}\`)`;
            const image = s.failure ? `❌ ${named}: ${escapeCell(s.failure)}` : named;
            return `| ${image} | ${s.reusedSteps}/${s.steps} | ${s.builtSteps} | ${formatBytes(s.layerBytesReused)} | ${formatBytes(s.layerBytesPushed)} | ${formatBytes(s.baseBytesReused)} | ${formatBytes(s.baseBytesPulled)} | ${formatDuration(s.buildMs)} |`;
        })
    ];
}
/** One row per verified file: where it came from and what it was checked against. */
function renderFiles(files) {
    return [
        '| Repo | File | Size | Digest | Source | Verified |',
        '| --- | --- | ---: | --- | --- | --- |',
        ...files.map(f => {
            const [algorithm, hex] = f.digest.split(':');
            return `| ${escapeCell(f.repo)} | \`${escapeCell(f.path)}\` | ${formatBytes(f.size)} | ${algorithm}:${hex.slice(0, 12)}… | ${f.source} | ✓ |`;
        })
    ];
}
/** The nix kind's new store paths by origin, and what the save did to the binary cache. */
function renderNix(nix) {
    const row = (label, t) => `| ${label} | ${t.paths} | ${formatBytes(t.narBytes)} |`;
    return [
        '| Nix store paths | Paths | NAR bytes |',
        '| --- | ---: | ---: |',
        row('built on this runner', nix.built),
        row('from the restored cache', nix.fromCache),
        row('downloaded from upstream caches', nix.fromUpstream),
        row('added to the cache', nix.copied),
        row('pruned from the cache', nix.pruned)
    ];
}
function renderRow(e) {
    const matched = e.matchedKey ? `\`${escapeCell(e.matchedKey)}\`` : '—';
    const restored = e.restoredArchiveBytes !== null && e.restoredBytes > 0
        ? `${formatBytes(e.restoredBytes)} (${formatBytes(e.restoredArchiveBytes)} archive)`
        : formatBytes(e.restoredBytes);
    return `| ${e.kind} | ${HIT_LABELS[e.hit]} | ${matched} | ${restored} | ${formatBytes(e.downloadedBytes)} | ${formatBytes(e.reusedBytes)} | ${formatBytes(e.uploadedBytes)} | ${SAVE_LABELS[e.saved]} | ${formatDuration(e.restoreMs + e.saveMs)} |`;
}
function escapeCell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

;// CONCATENATED MODULE: ./src/report/publish.ts






/** Report file, outputs and job summary, all from the same ledger. */
async function publish(entries, reportPath, withSummary) {
    const sums = totals(entries);
    lib_core/* setOutput */.uH(Outputs.BytesDownloaded, String(sums.downloadedBytes));
    lib_core/* setOutput */.uH(Outputs.BytesReused, String(sums.reusedBytes));
    try {
        await writeReport(reportPath, entries);
        lib_core/* setOutput */.uH(Outputs.Report, reportPath);
    }
    catch (error) {
        lib_core/* warning */.$e(`Could not write the report to ${reportPath}: ${errors_stringifyError(error)}`);
    }
    if (withSummary && process.env.GITHUB_STEP_SUMMARY) {
        await lib_core/* summary */.z.addRaw(renderSummary(entries)).write();
    }
}

;// CONCATENATED MODULE: ./src/state.ts


function saveRunState(state) {
    core.saveState(State.Run, JSON.stringify(state));
}
/** null when main did not get as far as restoring: post then has nothing to do. */
function loadRunState() {
    const raw = lib_core/* getState */.Gu(constants_State.Run);
    return raw ? JSON.parse(raw) : null;
}

// EXTERNAL MODULE: ./node_modules/@actions/exec/lib/exec.js + 1 modules
var exec = __webpack_require__(1955);
;// CONCATENATED MODULE: ./src/util/exec.ts

/** Runs a probe command quietly; null when the tool is absent or fails, so callers can say so plainly. */
async function exec_probe(command, args, env) {
    try {
        const result = await exec/* getExecOutput */.H(command, args, {
            silent: true,
            ignoreReturnCode: true,
            // Explicit, so the child sees this process's environment as the action changed it.
            env: { ...process.env, ...env }
        });
        return result.exitCode === 0 ? result.stdout.trim() : null;
    }
    catch {
        return null;
    }
}
/** The first dotted version number in a tool's `--version` output. */
function firstVersion(text) {
    return text?.match(/\d+\.\d+(?:\.\d+)?/)?.[0] ?? null;
}
const versions = new Map();
/**
 * A tool's version from `--version`, or null when it is absent: asked once per process and PATH,
 * since the kinds, their keys and the build phase all want it.
 */
function exec_toolVersion(tool) {
    const key = `${tool}\0${process.env.PATH ?? ''}`;
    let version = versions.get(key);
    if (version === undefined) {
        version = exec_probe(tool, ['--version']).then(firstVersion);
        versions.set(key, version);
    }
    return version;
}
/** `4.3.1` is at least `[4, 2]`. */
function versionAtLeast(version, [major, minor]) {
    const [actualMajor, actualMinor] = version.split('.').map(Number);
    return actualMajor > major || (actualMajor === major && actualMinor >= minor);
}

;// CONCATENATED MODULE: ./src/kinds/kind.ts
const NOTHING_PRUNED = { removedBytes: 0, removed: [] };
function platformParts() {
    return [
        { name: 'os', value: runnerOs(), source: 'process.platform' },
        { name: 'arch', value: process.arch, source: 'process.arch' }
    ];
}
/** The runner's own spelling (RUNNER_OS), so keys read like the ones other actions make. */
function runnerOs() {
    const names = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };
    return process.env.RUNNER_OS || names[process.platform] || process.platform;
}

;// CONCATENATED MODULE: ./src/kinds/buildah.ts



/** First buildah (podman) release that keeps cache mounts in `buildah-cache-<uid>` instead of `buildah-cache`. */
const UID_SUFFIX_SINCE = { buildah: [1, 29], podman: [4, 4] };
/** Data of `RUN --mount=type=cache` steps (e.g. pip inside a Containerfile), which no image layer holds. */
const buildah = {
    name: 'buildah',
    async locate() {
        const tool = await containerTool();
        const tmp = process.env.TMPDIR ? external_node_path_.resolve(process.env.TMPDIR) : '/var/tmp';
        const dir = external_node_path_.join(tmp, usesUidSuffix(tool) ? `buildah-cache-${process.getuid?.() ?? 0}` : 'buildah-cache');
        const notes = [
            tool.version
                ? `${tool.name} ${tool.version} keeps cache mounts in ${dir}`
                : `neither buildah nor podman found; assuming the current layout ${dir}`
        ];
        // Lock files belong to the build that held them; a restored one would be a stale lock.
        return { paths: [dir], exclude: ['buildah-cache-lockfile', 'buildah-cache-lockfiles'], notes };
    },
    async key() {
        const tool = await containerTool();
        return {
            parts: [
                ...platformParts(),
                { name: 'builder', value: `${tool.name}${tool.version ?? '-none'}`, source: `${tool.name} --version` }
            ],
            droppable: 0
        };
    },
    async prune() {
        return NOTHING_PRUNED;
    }
};
async function containerTool() {
    const podman = await exec_toolVersion('podman');
    if (podman)
        return { name: 'podman', version: podman };
    return { name: 'buildah', version: await exec_toolVersion('buildah') };
}
function usesUidSuffix(tool) {
    return !tool.version || versionAtLeast(tool.version, UID_SUFFIX_SINCE[tool.name]);
}

;// CONCATENATED MODULE: ./src/kinds/custom.ts

/** The user's own paths under the user's own key, like actions/cache; the key is taken as given. */
const custom = {
    name: 'custom',
    async locate(config) {
        return { paths: config.custom?.paths ?? [], exclude: [], notes: ['paths from the `paths` input'] };
    },
    async key() {
        return { parts: [], droppable: 0 };
    },
    async prune() {
        return NOTHING_PRUNED;
    }
};

;// CONCATENATED MODULE: ./src/kinds/directories.ts


/**
 * Kinds that are one directory qdc owns. Later capabilities add behaviour around them (the podman layer
 * cache bridge, Nix substituter setup, verified downloads); the caching itself is the same.
 */
function directoryKind(name, dirOf, describe, keyParts) {
    return {
        name,
        async locate(config) {
            return { paths: [dirOf(config)], exclude: [], notes: [describe] };
        },
        async key() {
            return { parts: await keyParts(), droppable: 0 };
        },
        async prune() {
            return NOTHING_PRUNED;
        }
    };
}
async function toolPart(tool) {
    const version = await exec_toolVersion(tool);
    return { name: tool, value: `${tool}${version ?? '-none'}`, source: `${tool} --version` };
}
const podman = directoryKind('podman', config => config.podmanDir, 'layer-cache directory (an OCI layout served to podman as --cache-from/--cache-to)', async () => [...platformParts(), await toolPart('podman')]);
const directories_nix = directoryKind('nix', config => config.nixDir, 'file:// binary cache directory (nix-cache-info, *.narinfo, nar/)', async () => [...platformParts(), await toolPart('nix')]);
// Content-addressed by SHA-256: the same bytes on every platform.
const downloads = directoryKind('downloads', config => config.downloadsDir, 'content-addressed download cache', async () => []);

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: ./node_modules/@actions/glob/lib/glob.js + 17 modules
var glob = __webpack_require__(2377);
;// CONCATENATED MODULE: ./src/plan/hash-files.ts




const HASH_LENGTH = 16;
/** Like the runner's hashFiles(), but also returns the files so the log can say what went into the key. */
async function hashFiles(patterns, root) {
    const rooted = patterns.map(p => (p.startsWith('!') ? `!${external_node_path_.resolve(root, p.slice(1))}` : external_node_path_.resolve(root, p)));
    const globber = await glob/* create */.v(rooted.join('\n'), { followSymbolicLinks: false, matchDirectories: false });
    const files = (await globber.glob()).filter(f => f.startsWith(root + external_node_path_.sep)).sort();
    if (files.length === 0)
        return { hash: 'none', files };
    const total = external_node_crypto_.createHash('sha256');
    for (const file of files) {
        total.update(external_node_path_.relative(root, file)).update('\0');
        total.update(await hashFile(file)).update('\0');
    }
    return { hash: total.digest('hex').slice(0, HASH_LENGTH), files: files.map(f => external_node_path_.relative(root, f)) };
}
async function hashFile(file) {
    const hash = external_node_crypto_.createHash('sha256');
    for await (const chunk of external_node_fs_.createReadStream(file))
        hash.update(chunk);
    return hash.digest('hex');
}
function shortHash(text) {
    return external_node_crypto_.createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
}

;// CONCATENATED MODULE: ./src/kinds/huggingface.ts




/**
 * The HuggingFace hub cache. Models are the same on every platform, so the key has no OS part, only
 * the models asked for; content changes roll the entry forward through revisions instead of new keys.
 */
const huggingface = {
    name: 'huggingface',
    async locate() {
        const { dir, source } = hubCacheDir();
        return {
            paths: [dir],
            // Credentials and lock/partial files must never travel in an archive (huggingface-hub.md §1.5).
            exclude: ['token', 'stored_tokens', '.locks', '*.incomplete'],
            notes: [`hub cache from ${source}`]
        };
    },
    // The models asked for name the entry; any other hub cache entry is still a useful partial hit.
    async key(config) {
        if (config.models.length === 0)
            return { parts: [], droppable: 0 };
        const spec = JSON.stringify(config.models);
        return { parts: [{ name: 'models', value: shortHash(spec), source: config.models.map(m => m.repo).join(', ') }], droppable: 1 };
    },
    async prune() {
        return NOTHING_PRUNED;
    }
};
/** Same order as huggingface_hub: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache. */
function hubCacheDir() {
    const env = process.env;
    if (env.HF_HUB_CACHE)
        return { dir: external_node_path_.resolve(env.HF_HUB_CACHE), source: 'HF_HUB_CACHE' };
    if (env.HUGGINGFACE_HUB_CACHE)
        return { dir: external_node_path_.resolve(env.HUGGINGFACE_HUB_CACHE), source: 'HUGGINGFACE_HUB_CACHE' };
    if (env.HF_HOME)
        return { dir: external_node_path_.resolve(env.HF_HOME, 'hub'), source: 'HF_HOME' };
    const cacheHome = env.XDG_CACHE_HOME || external_node_path_.join(external_node_os_.homedir(), '.cache');
    return { dir: external_node_path_.join(cacheHome, 'huggingface', 'hub'), source: env.XDG_CACHE_HOME ? 'XDG_CACHE_HOME' : 'the default ~/.cache' };
}

;// CONCATENATED MODULE: ./src/kinds/pip.ts





/** pip's own download cache: wheels and HTTP responses, the ~700 MB users fetch on every run. */
const pip = {
    name: 'pip',
    async locate() {
        const notes = [];
        const dir = await pipCacheDir(notes);
        return { paths: [dir], exclude: ['selfcheck', '*.tmp'], notes };
    },
    async key(config) {
        const python = (await exec_toolVersion('python3')) ?? 'none';
        const deps = await hashFiles(config.pipDependencyFiles, config.workspace);
        return {
            parts: [
                ...platformParts(),
                { name: 'python', value: `py${python.split('.').slice(0, 2).join('.')}`, source: 'python3 --version' },
                {
                    name: 'dependencies',
                    value: deps.hash,
                    source: deps.files.length > 0 ? deps.files.join(', ') : `no file matched ${config.pipDependencyFiles.join(' ')}`
                }
            ],
            droppable: 2
        };
    },
    // pip never evicts; its cache only holds immutable wheels and responses, so nothing is stale by content.
    async prune() {
        return NOTHING_PRUNED;
    }
};
async function pipCacheDir(notes) {
    if (process.env.PIP_CACHE_DIR) {
        notes.push('pip cache directory from PIP_CACHE_DIR');
        return external_node_path_.resolve(process.env.PIP_CACHE_DIR);
    }
    const reported = await exec_probe('python3', ['-m', 'pip', 'cache', 'dir']);
    if (reported) {
        notes.push('pip cache directory from `python3 -m pip cache dir`');
        return reported.split('\n').pop().trim();
    }
    const fallback = external_node_path_.join(process.env.XDG_CACHE_HOME || external_node_path_.join(external_node_os_.homedir(), '.cache'), 'pip');
    notes.push(`pip did not report its cache directory (not installed, or caching disabled); using ${fallback}`);
    return fallback;
}

;// CONCATENATED MODULE: ./src/kinds/index.ts





const KINDS = { pip: pip, buildah: buildah, huggingface: huggingface, podman: podman, nix: directories_nix, downloads: downloads, custom: custom };
function kinds_kindNamed(name) {
    return KINDS[name];
}

;// CONCATENATED MODULE: ./src/measure/snapshot-store.ts


function snapshotFile(dir, kind) {
    return external_node_path_.join(dir, `${kind}.restored.json`);
}
async function writeRestoredTree(file, tree) {
    await writeFileAtomic(file, JSON.stringify(tree));
}
async function readRestoredTree(file) {
    return readJson(file);
}

;// CONCATENATED MODULE: ./src/measure/tree.ts



/** Walks the paths without following symlinks, skipping what the kind never archives. */
async function snapshotTree(paths, exclude) {
    const excluded = exclude.map(globToRegExp);
    const snapshot = {};
    for (const root of paths)
        await walk(root, excluded, snapshot);
    return snapshot;
}
async function walk(entry, excluded, into) {
    if (excluded.some(pattern => pattern.test(external_node_path_.basename(entry))))
        return;
    const stat = await promises_.lstat(entry).catch(() => null);
    if (!stat)
        return;
    if (stat.isDirectory()) {
        const names = await promises_.readdir(entry).catch(() => []);
        for (const name of names)
            await walk(external_node_path_.join(entry, name), excluded, into);
        return;
    }
    into[entry] = [stat.size, Math.trunc(stat.mtimeMs)];
}
/** tar's --exclude wildcards as used by kinds: `*` and `?` within a name. */
function globToRegExp(glob) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp(`^${body}$`);
}
function totalBytes(snapshot) {
    return Object.values(snapshot).reduce((sum, [size]) => sum + size, 0);
}
/** Identifies the content cheaply: a rewritten file changes size or mtime, and tar restores both. */
function fingerprint(snapshot) {
    const hash = external_node_crypto_.createHash('sha256');
    for (const file of Object.keys(snapshot).sort()) {
        const [size, mtime] = snapshot[file];
        hash.update(`${file}\0${size}\0${mtime}\n`);
    }
    return hash.digest('hex');
}
/** Files of `later` that are absent from `earlier` or differ from it. */
function changedSince(earlier, later) {
    const changed = {};
    for (const [file, entry] of Object.entries(later)) {
        const before = earlier[file];
        if (!before || before[0] !== entry[0] || before[1] !== entry[1])
            changed[file] = entry;
    }
    return changed;
}
/** Files of `subset` still present, unchanged, in `later`. */
function unchangedIn(subset, later) {
    const kept = {};
    for (const [file, entry] of Object.entries(subset)) {
        const now = later[file];
        if (now && now[0] === entry[0] && now[1] === entry[1])
            kept[file] = entry;
    }
    return kept;
}

;// CONCATENATED MODULE: ./src/plan/plan.ts



async function planCaches(config) {
    return Promise.all(config.kinds.map(name => planKind(config, name)));
}
async function planKind(config, name) {
    const kind = kindNamed(name);
    const location = await kind.locate(config);
    if (name === 'custom' && config.custom) {
        const { key, restoreKeys } = config.custom;
        return { kind: name, ...location, key, restoreKeys: [revisionsOf(key), ...restoreKeys], parts: [] };
    }
    const { parts, droppable } = await kind.key(config, location);
    const stem = [config.keyPrefix, name, KEY_SCHEME];
    const key = joinKey([...stem, ...parts.map(p => p.value)]);
    const fallbacks = Array.from({ length: droppable }, (_, i) => joinKey([...stem, ...parts.slice(0, parts.length - 1 - i).map(p => p.value)]) + '-');
    return { kind: name, ...location, key, restoreKeys: [revisionsOf(key), ...fallbacks], parts };
}
function joinKey(values) {
    return values.map(v => v.replace(/[\s,]+/g, '_')).join('-');
}
/**
 * Entries are immutable, so a save appends a revision to the primary key; the newest revision of the
 * primary key is still an exact hit. This is what lets a changed cache be saved again under the same key.
 */
function revisionsOf(key) {
    return key + REVISION_SEPARATOR;
}
function revisionKey(key) {
    const runId = process.env.GITHUB_RUN_ID;
    const revision = runId ? `${runId}-${process.env.GITHUB_RUN_ATTEMPT || '1'}` : Date.now().toString(36);
    return `${key}${constants_REVISION_SEPARATOR}${revision}`;
}
function isExactMatch(key, matchedKey) {
    // GitHub compares keys case-insensitively; so do we, so both backends agree.
    const wanted = key.toLowerCase();
    const matched = matchedKey.toLowerCase();
    return matched === wanted || matched.startsWith(revisionsOf(wanted));
}
/** The configuration group: every key with the parts that went into it, so a miss explains itself. */
function logPlans(config, backendName, plans) {
    core.info(`backend: ${backendName}${backendName === 'local' ? ` (${config.localDir})` : ''}`);
    core.info(`save: ${config.save}${config.readOnly ? ', read-only' : ''}`);
    for (const plan of plans) {
        core.info(``);
        core.info(`[${plan.kind}]`);
        core.info(`  paths: ${plan.paths.join(', ')}`);
        if (plan.exclude.length > 0)
            core.info(`  never archived: ${plan.exclude.join(', ')}`);
        for (const note of plan.notes)
            core.info(`  ${note}`);
        core.info(`  key: ${plan.key}`);
        for (const part of plan.parts)
            core.info(`    ${part.name} = ${part.value}  (${part.source})`);
        core.info(`  restore keys: ${plan.restoreKeys.join(' | ')}`);
    }
}

;// CONCATENATED MODULE: ./src/save/save.ts







/** Prune, measure against what main restored, then upload unless nothing changed since an exact hit. */
async function saveOne(plan, entry, restoredFingerprint, context) {
    const started = performance.now();
    await pruneBeforeSave(plan, entry);
    const now = await snapshotTree(plan.paths, plan.exclude);
    await account(plan, entry, now, context.snapshotDir);
    entry.saved = await decideAndSave(plan, entry, fingerprint(now) !== restoredFingerprint, totalBytes(now), context);
    entry.saveMs = performance.now() - started;
}
async function pruneBeforeSave(plan, entry) {
    try {
        const { removedBytes, removed } = await kinds_kindNamed(plan.kind).prune({ paths: plan.paths, exclude: plan.exclude, notes: [] });
        if (removed.length > 0)
            lib_core/* info */.pq(`Pruned ${removed.length} item(s), ${formatBytes(removedBytes)}`);
    }
    catch (error) {
        entry.problems.push(`pruning failed, saving unpruned: ${errors_stringifyError(error)}`);
        lib_core/* warning */.$e(`${plan.kind}: pruning failed, saving unpruned: ${errors_stringifyError(error)}`);
    }
}
/** downloaded = what appeared or changed since the restore; reused = restored bytes still there, unchanged. */
async function account(plan, entry, now, snapshotDir) {
    // Nix store paths were classified by origin (nix/save.ts): the directory diff cannot tell built from downloaded.
    if (entry.nix) {
        entry.downloadedBytes = entry.nix.fromUpstream.narBytes;
        entry.reusedBytes = entry.nix.fromCache.narBytes;
        lib_core/* info */.pq(`Downloaded from upstream caches: ${formatBytes(entry.downloadedBytes)}; reused from cache: ${formatBytes(entry.reusedBytes)} (NAR sizes)`);
        return;
    }
    // Likewise cache images: a layer pushed into the directory was built here, not downloaded.
    if (entry.services) {
        const sum = (figure) => entry.services.reduce((total, s) => total + figure(s), 0);
        entry.downloadedBytes = sum(s => s.baseBytesPulled);
        entry.reusedBytes = sum(s => s.layerBytesReused + s.baseBytesReused);
        lib_core/* info */.pq(`Base images from upstream: ${formatBytes(entry.downloadedBytes)}; reused from the layer cache: ${formatBytes(entry.reusedBytes)}; ` +
            `built here and pushed: ${formatBytes(sum(s => s.layerBytesPushed))}`);
        return;
    }
    const tree = await readRestoredTree(snapshotFile(snapshotDir, plan.kind));
    const present = tree?.present ?? {};
    entry.downloadedBytes = totalBytes(changedSince(present, now));
    entry.reusedBytes = totalBytes(unchangedIn(tree?.restored ?? {}, now));
    lib_core/* info */.pq(`Downloaded during the job: ${formatBytes(entry.downloadedBytes)}; reused from cache: ${formatBytes(entry.reusedBytes)}`);
}
async function decideAndSave(plan, entry, changed, bytesOnDisk, context) {
    if (context.save === 'never')
        return said('disabled', 'Not saving: save is never.');
    if (!context.mode.write)
        return said('read-only', `Not saving: ${context.mode.reason}.`);
    if (entry.hit === 'exact' && !changed)
        return said('unchanged', `Content unchanged since the exact hit on ${entry.matchedKey}; not uploading.`);
    if (bytesOnDisk === 0)
        return said('empty', `Nothing to save: ${plan.paths.join(', ')} holds no files.`);
    const key = revisionKey(plan.key);
    try {
        const result = await context.backend.save({ paths: plan.paths, exclude: plan.exclude, kind: plan.kind }, key);
        entry.uploadedBytes = result.archiveBytes ?? 0;
        lib_core/* info */.pq(`Saved ${key}${result.archiveBytes === null ? '' : ` (${formatBytes(result.archiveBytes)} archive)`}`);
        return 'saved';
    }
    catch (error) {
        const problem = `save failed, the job goes on: ${errors_stringifyError(error)}`;
        lib_core/* warning */.$e(`${plan.kind}: ${problem}`);
        entry.problems.push(problem);
        return 'failed';
    }
}
function said(outcome, message) {
    lib_core/* info */.pq(message);
    return outcome;
}

;// CONCATENATED MODULE: ./src/nix/binary-cache.ts



const CACHE_INFO = 'nix-cache-info';
/** When each store path was last used by a run (day granularity, so a same-day rerun changes nothing). */
const LAST_USED = 'qdc-last-used.json';
const HASH_PART = /^[0-9a-df-np-sv-z]{32}$/;
function parseNarInfo(text, hash) {
    const fields = new Map();
    const sigs = [];
    for (const line of text.split('\n')) {
        if (line.trim() === '')
            continue;
        const colon = line.indexOf(': ');
        if (colon <= 0)
            throw new Error(`line '${line.slice(0, 40)}' is not 'Name: value'`);
        const [name, value] = [line.slice(0, colon), line.slice(colon + 2)];
        if (name === 'Sig')
            sigs.push(value);
        else
            fields.set(name, value);
    }
    const need = (name) => {
        const value = fields.get(name);
        if (value === undefined || value === '')
            throw new Error(`no ${name}`);
        return value;
    };
    const storePath = need('StorePath');
    if (!external_node_path_.basename(storePath).startsWith(`${hash}-`))
        throw new Error(`StorePath ${storePath} does not match the file name`);
    const narSize = Number(need('NarSize'));
    const fileSize = Number(fields.get('FileSize') ?? narSize);
    if (!Number.isSafeInteger(narSize) || narSize <= 0 || !Number.isSafeInteger(fileSize) || fileSize < 0)
        throw new Error('bad NarSize or FileSize');
    const narHash = need('NarHash');
    if (!/^sha256:/.test(narHash))
        throw new Error(`NarHash '${narHash}' is not sha256`);
    return {
        hash,
        storePath,
        url: need('URL'),
        fileSize,
        narHash,
        narSize,
        references: (fields.get('References') ?? '').split(' ').filter(Boolean),
        sigs,
        infoBytes: Buffer.byteLength(text)
    };
}
/** What a Nix signature signs (nix's ValidPathInfo::fingerprint). */
function binary_cache_fingerprintOf(info, storeDir) {
    return `1;${info.storePath};${info.narHash};${info.narSize};${info.references.map(r => `${storeDir}/${r}`).join(',')}`;
}
function hashPartOf(storePath) {
    return external_node_path_.basename(storePath).slice(0, 32);
}
/** `nix-cache-info` as a map; null when the directory is not (yet) a binary cache. */
async function binary_cache_readCacheInfo(dir) {
    const text = await fs.readFile(path.join(dir, CACHE_INFO), 'utf8').catch(() => null);
    if (text === null)
        return null;
    return new Map(text
        .split('\n')
        .map(line => line.split(/:\s*/, 2))
        .filter(([name, value]) => name && value !== undefined));
}
async function binary_cache_listCache(dir) {
    const entries = new Map();
    const corrupt = [];
    const names = await promises_.readdir(dir).catch(() => []);
    for (const name of names) {
        if (!name.endsWith('.narinfo'))
            continue;
        const hash = name.slice(0, -'.narinfo'.length);
        try {
            if (!HASH_PART.test(hash))
                throw new Error('not a store hash');
            entries.set(hash, parseNarInfo(await promises_.readFile(external_node_path_.join(dir, name), 'utf8'), hash));
        }
        catch {
            corrupt.push(name);
        }
    }
    return { entries, corrupt };
}
/** Paths and NAR bytes of store paths, from narinfos or `nix path-info`. */
function tally(infos) {
    let paths = 0;
    let narBytes = 0;
    for (const info of infos) {
        paths++;
        narBytes += info.narSize;
    }
    return { paths, narBytes };
}
function storedBytes(info) {
    return info.fileSize + info.infoBytes;
}
/** A missing or unreadable record counts as empty: every entry is then new today. */
async function readLastUsed(dir) {
    return (await readJson(external_node_path_.join(dir, LAST_USED)).catch(() => null)) ?? {};
}
/** Entries of `used` are stamped today; entries never stamped (older qdc, copied in) count as new today. */
function stampUsed(previous, entries, used, today) {
    const next = {};
    for (const hash of [...entries.keys()].sort())
        next[hash] = used.has(hash) || !previous[hash] ? today : previous[hash];
    return next;
}
async function writeLastUsed(dir, lastUsed) {
    await writeFileAtomicIfChanged(external_node_path_.join(dir, LAST_USED), JSON.stringify(lastUsed, null, 0) + '\n');
}
/**
 * Which entries to drop: those unused for longer than maxAge, then least recently used (largest first on
 * a tie) until the cache fits maxBytes. Dropping a path drops every entry that refers to it, so what
 * stays is closed under references and Nix can substitute any of it from this cache alone.
 */
function choosePrunable(entries, lastUsed, limits) {
    const dropped = new Set();
    const referrers = referrersOf(entries);
    let kept = [...entries.values()].reduce((total, info) => total + storedBytes(info), 0);
    const drop = (hash) => {
        const stack = [hash];
        while (stack.length > 0) {
            const next = stack.pop();
            if (dropped.has(next))
                continue;
            dropped.add(next);
            const info = entries.get(next);
            if (info)
                kept -= storedBytes(info);
            stack.push(...(referrers.get(next) ?? []));
        }
    };
    const oldest = new Date(limits.now.getTime() - limits.maxAgeMs).toISOString().slice(0, 10);
    for (const hash of entries.keys())
        if ((lastUsed[hash] ?? '') < oldest)
            drop(hash);
    const byAge = [...entries.values()].sort((a, b) => (lastUsed[a.hash] ?? '').localeCompare(lastUsed[b.hash] ?? '') || storedBytes(b) - storedBytes(a));
    for (const info of byAge) {
        if (kept <= limits.maxBytes)
            break;
        if (dropped.has(info.hash))
            continue;
        drop(info.hash);
    }
    return dropped;
}
function referrersOf(entries) {
    const referrers = new Map();
    for (const info of entries.values()) {
        for (const reference of info.references) {
            const target = hashPartOf(reference);
            if (target === info.hash)
                continue;
            const list = referrers.get(target);
            if (list)
                list.push(info.hash);
            else
                referrers.set(target, [info.hash]);
        }
    }
    return referrers;
}
/** Deletes the narinfos, then every NAR no remaining narinfo points at (two paths may share one NAR). */
async function removeEntries(dir, entries, drop) {
    for (const hash of drop)
        await promises_.rm(external_node_path_.join(dir, `${hash}.narinfo`), { force: true });
    const wanted = new Set([...entries.values()].filter(info => !drop.has(info.hash)).map(info => external_node_path_.normalize(info.url)));
    const nars = await promises_.readdir(external_node_path_.join(dir, 'nar')).catch(() => []);
    for (const name of nars) {
        const relative = external_node_path_.join('nar', name);
        if (!wanted.has(relative))
            await promises_.rm(external_node_path_.join(dir, relative), { force: true });
    }
}

;// CONCATENATED MODULE: ./src/nix/cli.ts

/** nix 2.8 hides `nix copy`, `nix path-info` and `nix show-config` behind this feature flag. */
const NIX_COMMAND = ['--extra-experimental-features', 'nix-command'];
class NixCommandError extends Error {
    constructor(command, exitCode, stderr) {
        const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
        super(`${command} exited with ${exitCode}${last ? `: ${last}` : ''}`);
        this.name = 'NixCommandError';
    }
}
/** Runs `nix <args>` quietly and returns its stdout; a failure throws with the tail of stderr. */
async function cli_nix(args) {
    return cli_run('nix', [...NIX_COMMAND, ...args]);
}
async function cli_run(command, args) {
    const result = await exec/* getExecOutput */.H(command, args, {
        silent: true,
        ignoreReturnCode: true,
        env: process.env
    });
    if (result.exitCode !== 0)
        throw new NixCommandError(`${command} ${args.filter(a => !NIX_COMMAND.includes(a))[0] ?? ''}`.trim(), result.exitCode, result.stderr);
    return result.stdout;
}
/** Splits long path lists so one command line stays far below ARG_MAX. */
function inChunks(items, size = 500) {
    const chunks = [];
    for (let i = 0; i < items.length; i += size)
        chunks.push(items.slice(i, i + size));
    return chunks;
}

;// CONCATENATED MODULE: ./src/nix/copy.ts

/**
 * `nix copy --to file://…`: Nix writes narinfo and NAR itself and adds whatever of each path's closure the
 * directory lacks, so the cache stays closed under references. (The reverse, `--all --from file://`, fails
 * on such caches: never used.)
 */
async function copyToCache(dir, paths, signingKeyFile) {
    const url = `file://${dir}?compression=zstd${signingKeyFile ? `&secret-key=${signingKeyFile}` : ''}`;
    for (const chunk of inChunks(paths))
        await cli_nix(['copy', '--to', url, ...chunk]);
}

;// CONCATENATED MODULE: ./src/nix/settings.ts







/** Asked before cache.nixos.org (40) and Cachix/Magic Nix Cache (41): a local file beats any network. */
const CACHE_PRIORITY = 10;
function settings_substituterUrl(dir, trusted) {
    return `file://${dir}?priority=${CACHE_PRIORITY}${trusted ? '&trusted=1' : ''}`;
}
/** The nix.conf lines that make the restored cache a substituter for every later step. */
function substituterConf(url, publicKeys) {
    return [
        '# Written by qdc-action: the restored binary cache, asked first; on any fault Nix builds instead.',
        `extra-substituters = ${url}`,
        ...(publicKeys.length > 0 ? [`extra-trusted-public-keys = ${publicKeys.join(' ')}`] : []),
        'fallback = true',
        ''
    ].join('\n');
}
/**
 * NIX_USER_CONF_FILES replaces Nix's default user files, so the list keeps them (or the value already
 * set). Nix applies the list last to first, so ours goes first: a plain `substituters =` in the user's
 * own file cannot reset it.
 */
function userConfFiles(ours, env = process.env) {
    const existing = env[Env.NixUserConfFiles];
    if (existing)
        return `${ours}:${existing}`;
    const home = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
    const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
    return [ours, ...[home, ...dirs].map(d => path.join(d, 'nix', 'nix.conf'))].join(':');
}
/** Writes the conf file and exports it for later steps (GITHUB_ENV) and for this process's own nix calls. */
async function settings_exportSubstituter(confFile, url, publicKeys) {
    await writeFileAtomic(confFile, substituterConf(url, publicKeys));
    core.exportVariable(Env.NixUserConfFiles, userConfFiles(confFile));
}
/** From `nix show-config` as read before qdc exported its own conf, plus who this process runs as. */
async function settings_gatherTrustFacts(config) {
    const user = os.userInfo().username;
    const groups = ((await probe('id', ['-Gn'])) ?? '').split(/\s+/).filter(Boolean);
    return {
        user,
        groups,
        root: process.getuid?.() === 0,
        localStore: await opensStoreDirectly(config.get('store') ?? 'auto'),
        trustedUsers: settings_listSetting(config, 'trusted-users'),
        trustedSubstituters: settings_listSetting(config, 'trusted-substituters'),
        trustedPublicKeys: settings_listSetting(config, 'trusted-public-keys')
    };
}
/** A whitespace-separated list setting; empty when unset. */
function settings_listSetting(config, name) {
    return (config.get(name) ?? '').split(/\s+/).filter(Boolean);
}
function settings_parseShowConfig(text) {
    const settings = new Map();
    for (const line of text.split('\n')) {
        const eq = line.indexOf(' = ');
        if (eq > 0)
            settings.set(line.slice(0, eq).trim(), line.slice(eq + 3).trim());
    }
    return settings;
}
/** `auto` (the default) opens the store itself when it may write the database, else talks to the daemon. */
async function opensStoreDirectly(store) {
    const remote = process.env.NIX_REMOTE || store;
    if (remote === 'daemon' || remote.startsWith('unix://') || remote.startsWith('ssh'))
        return false;
    if (remote !== 'auto')
        return true;
    const db = path.join(process.env.NIX_STATE_DIR || '/nix/var/nix', 'db');
    return fs.access(db, fs.constants.W_OK).then(() => true, () => false);
}
/**
 * Whether the nix-daemon (if any) will honour our extra substituter for this user. A URL in
 * trusted-substituters is not enough: the daemon still checks signatures with its own keys only.
 */
function settings_substituterAccepted(facts, url, publicKeys = []) {
    if (facts.root || facts.localStore)
        return true;
    const signaturesPass = new URL(url).searchParams.get('trusted') === '1' || publicKeys.every(key => facts.trustedPublicKeys?.includes(key));
    if (facts.trustedSubstituters.includes(url) && signaturesPass)
        return true;
    return facts.trustedUsers.some(entry => entry === '*' || entry === facts.user || (entry.startsWith('@') && facts.groups.includes(entry.slice(1))));
}
/** What a self-hosted runner's admin adds to the NixOS configuration so the daemon uses the cache. */
function settings_untrustedAdvice(facts, url, publicKeys) {
    const lines = [
        `Nix: the nix-daemon does not trust user '${facts.user}', so it ignores the restored cache ${url} and downloads or builds everything again.`,
        'An admin of this runner can allow it in the NixOS configuration:',
        `  nix.settings.trusted-substituters = [ "${url}" ];`,
        ...(publicKeys.length > 0 ? [`  nix.settings.trusted-public-keys = [ ${publicKeys.map(k => `"${k}"`).join(' ')} ];`] : []),
        `or trust the runner's user entirely: nix.settings.trusted-users = [ "${facts.user}" ];`
    ];
    return lines.join('\n');
}

;// CONCATENATED MODULE: ./src/config/inputs.ts


/** Input errors name the input and say what to do; main fails with this one line before touching anything. */
class inputs_InputError extends Error {
    input;
    problem;
    constructor(input, 
    /** The message without the input's name, for callers that name it their own way (qdc's flags). */
    problem) {
        super(`Input '${input}': ${problem}`);
        this.input = input;
        this.problem = problem;
        this.name = 'InputError';
    }
}
function getString(name, fallback) {
    const value = core.getInput(name).trim();
    return value === '' ? fallback : value;
}
function getStringOrNull(name) {
    const value = core.getInput(name).trim();
    return value === '' ? null : value;
}
function getBool(name, fallback) {
    const value = core.getInput(name).trim().toLowerCase();
    if (value === '')
        return fallback;
    if (['true', 'yes', '1', 'on'].includes(value))
        return true;
    if (['false', 'no', '0', 'off'].includes(value))
        return false;
    throw new inputs_InputError(name, `expected true or false, got '${value}'`);
}
function getChoice(name, choices, fallback) {
    const value = core.getInput(name).trim().toLowerCase();
    if (value === '')
        return fallback;
    if (choices.includes(value))
        return value;
    throw new inputs_InputError(name, `expected one of ${choices.join(', ')}, got '${value}'`);
}
/** One item per line; commas also separate items unless `lines` says the items may hold commas. */
function getList(name, separators) {
    const raw = core.getInput(name);
    const pattern = separators === 'lines' ? /\r?\n/ : /\r?\n|,/;
    return raw
        .split(pattern)
        .map(item => item.trim())
        .filter(item => item !== '' && !item.startsWith('#'));
}
const SIZE_UNITS = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };
/** Parses `500M`, `50G`, `1.5GiB`, `1024` (bytes); null when unset. */
function parseSize(name, raw) {
    const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)$/i.exec(raw.trim());
    const unit = match?.[2].toLowerCase().replace('i', '');
    if (!match || unit === undefined || !(unit in SIZE_UNITS)) {
        throw new inputs_InputError(name, `'${raw}' is not a size; write it like 500M, 20G or 1T`);
    }
    return Math.round(Number(match[1]) * SIZE_UNITS[unit]);
}
const AGE_UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Parses `30d`, `12h`, `90m`, `2w`. */
function parseAge(name, raw) {
    const match = /^(\d+)\s*([smhdw])$/i.exec(raw.trim());
    if (!match)
        throw new inputs_InputError(name, `'${raw}' is not an age; write it like 30d, 12h or 2w`);
    return Number(match[1]) * AGE_UNITS[match[2].toLowerCase()];
}
/** A manifest file's lines, as an input's: trimmed, without blanks and `#` comments. */
function readManifestLines(file) {
    return fs
        .readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .map(line => line.trim())
        .filter(line => line !== '' && !line.startsWith('#'));
}

;// CONCATENATED MODULE: ./src/nix/signing.ts







/** DER prefixes that turn raw Ed25519 bytes into keys node:crypto accepts. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_FORMAT = 'expected name:base64 of 64 bytes, as written by nix-store --generate-binary-cache-key';
/**
 * The `nix-signing-key` input: the key itself (typically a secret) or a file holding it. Masked at once;
 * a malformed key fails main with one line that never repeats the value.
 */
function readNixSigningKey(workspace) {
    const raw = core.getInput(Inputs.NixSigningKey).trim();
    if (raw === '')
        return null;
    core.setSecret(raw);
    const inline = raw.includes(':') || raw.includes('\n');
    const file = inline ? null : path.resolve(workspace, raw);
    if (file && !fs.existsSync(file))
        throw new InputError(Inputs.NixSigningKey, `the file ${file} does not exist; give a key file or the key itself`);
    const secret = inline ? raw : fs.readFileSync(file, 'utf8').trim();
    if (!inline)
        core.setSecret(secret);
    const publicKey = publicKeyOf(secret);
    if (!publicKey)
        throw new InputError(Inputs.NixSigningKey, `is not a Nix secret key (${KEY_FORMAT})`);
    return { file: file ?? privateCopy(secret), publicKey };
}
/** `name:base64(public)` for a Nix secret key, or null when it is not one (seed and public half must agree). */
function publicKeyOf(secret) {
    const match = /^([^:\s]+):([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
    if (!match)
        return null;
    const bytes = Buffer.from(match[2], 'base64');
    if (bytes.length !== 64)
        return null;
    try {
        const key = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
        const derived = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
        return derived.equals(bytes.subarray(32)) ? `${match[1]}:${derived.toString('base64')}` : null;
    }
    catch {
        return null;
    }
}
/** Whether `signature` (`name:base64`) is `publicKey`'s signature over a narinfo's fingerprint. */
function signing_verifySignature(fingerprint, signature, publicKey) {
    const [sigName, sigData] = splitKey(signature);
    const [keyName, keyData] = splitKey(publicKey);
    if (!sigName || sigName !== keyName || !sigData || !keyData)
        return false;
    const raw = Buffer.from(keyData, 'base64');
    if (raw.length !== 32)
        return false;
    try {
        const key = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
        return crypto.verify(null, Buffer.from(fingerprint), key, Buffer.from(sigData, 'base64'));
    }
    catch {
        return false;
    }
}
function signing_keyName(key) {
    return splitKey(key)[0];
}
function splitKey(key) {
    const colon = key.indexOf(':');
    return colon < 0 ? ['', ''] : [key.slice(0, colon), key.slice(colon + 1)];
}
/** Nix reads secret keys from files only; an inline key gets one readable by this user alone. */
function privateCopy(secret) {
    const dir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'qdc-nix-key-'));
    const file = path.join(dir, 'secret-key');
    fs.writeFileSync(file, secret, { mode: 0o600 });
    return file;
}

;// CONCATENATED MODULE: ./src/nix/store-paths.ts




async function store_paths_listValidPaths() {
    const out = await cli_nix(['path-info', '--all']);
    return out.split('\n').map(line => line.trim()).filter(Boolean).sort();
}
async function store_paths_writePathList(file, paths) {
    await writeFileAtomic(file, paths.join('\n') + '\n');
}
async function readPathList(file) {
    return (await promises_.readFile(file, 'utf8')).split('\n').filter(Boolean);
}
/** Paths valid now that were not at restore, without `.drv` files: evaluation writes those, nothing builds them. */
function newPaths(before, after) {
    const known = new Set(before);
    return after.filter(p => !known.has(p) && !p.endsWith('.drv'));
}
async function pathInfos(paths) {
    const infos = [];
    for (const chunk of inChunks(paths))
        infos.push(...parsePathInfoJson(await cli_nix(['path-info', '--json', ...chunk])));
    return infos;
}
/** Nix < 2.19 prints an array of objects with `path`; later versions an object keyed by path (null when invalid). */
function parsePathInfoJson(text) {
    const parsed = JSON.parse(text);
    const records = Array.isArray(parsed)
        ? parsed.map(r => [String(r.path), r])
        : Object.entries(parsed).filter((e) => e[1] !== null);
    return records
        .filter(([, r]) => r.valid !== false)
        .map(([p, r]) => ({
        path: p,
        narSize: Number(r.narSize ?? 0),
        ultimate: r.ultimate === true,
        signatures: Array.isArray(r.signatures) ? r.signatures : [],
        ca: typeof r.ca === 'string' ? r.ca : null
    }));
}
/**
 * Where a new path came from. Built: `ultimate` (nix sets it only on paths it built), or a content-addressed
 * path nobody signed (a source added by evaluation). From our cache: the restored cache had its narinfo,
 * and our cache is asked first. Otherwise a substituter further down the list sent it: upstream.
 */
function originOf(info, restoredHashes) {
    if (info.ultimate)
        return 'built';
    if (restoredHashes.has(hashPartOf(info.path)))
        return 'fromCache';
    if (info.ca !== null && info.signatures.length === 0)
        return 'built';
    return 'fromUpstream';
}

;// CONCATENATED MODULE: ./src/nix/restore.ts











function recordFile(snapshotDir) {
    return external_node_path_.join(snapshotDir, 'nix.json');
}
function baselineFile(snapshotDir) {
    return external_node_path_.join(snapshotDir, 'nix-valid-paths.txt');
}
/**
 * After the restore: check the binary cache, make it the first substituter of every later step, and
 * record the store's valid paths so post can tell which ones the job added. Never fails the job.
 */
async function setUpNix(config, entries, snapshotDir) {
    const entry = entries.find(e => e.kind === 'nix');
    if (!entry)
        return;
    await core.group('Nix substituter', async () => {
        try {
            await setUp(config, entry, snapshotDir);
        }
        catch (error) {
            warn(entry, `setting up the Nix cache failed, builds go on without it: ${stringifyError(error)}`);
        }
    });
}
async function setUp(config, entry, snapshotDir) {
    if ((await toolVersion('nix')) === null) {
        warn(entry, 'nix is not installed (no working `nix` on PATH): the cache directory is restored and saved, but nothing uses it. Install Nix before this action.');
        return;
    }
    const storeDir = JSON.parse(await run('nix-instantiate', ['--eval', '-E', 'builtins.storeDir']));
    await writePathList(baselineFile(snapshotDir), await listValidPaths());
    const settings = parseShowConfig(await nix(['show-config']));
    const trustedKeys = [...listSetting(settings, 'trusted-public-keys'), ...config.nixPublicKeys];
    const check = await checkCache(config.nixDir, storeDir, trustedKeys, config.nixTrusted);
    for (const problem of check.problems)
        warn(entry, problem);
    for (const note of check.notes)
        core.info(note);
    await writeFileAtomic(recordFile(snapshotDir), JSON.stringify({ storeDir, saveable: check.saveable, accepted: check.accepted }));
    if (check.accepted.length === 0)
        return;
    const url = substituterUrl(config.nixDir, config.nixTrusted);
    // The settings were read before our conf is exported, whose extra-trusted-public-keys the daemon would not see.
    const facts = await gatherTrustFacts(settings);
    await exportSubstituter(path.join(snapshotDir, 'nix.conf'), url, config.nixPublicKeys);
    core.info(`Later steps substitute from ${url} first (${check.accepted.length} store paths)`);
    if (!substituterAccepted(facts, url, config.nixPublicKeys))
        warn(entry, untrustedAdvice(facts, url, config.nixPublicKeys));
}
/**
 * Validates a restored file:// cache before Nix sees it: the store it was made for, narinfos that do not
 * parse or lack their NAR (removed, so Nix never trips on them), and signatures Nix will accept.
 */
async function checkCache(dir, storeDir, trustedKeys, trusted) {
    const info = await readCacheInfo(dir);
    if (info === null)
        return { saveable: true, accepted: [], problems: [], notes: [`No binary cache in ${dir} yet; this job's store paths will start one.`] };
    const cacheStore = info.get('StoreDir');
    if (cacheStore !== storeDir) {
        const problem = `the restored cache ${dir} is for the Nix store ${cacheStore ?? '(none given)'}, but this Nix uses ${storeDir}: not using it and not adding to it. Give this runner its own nix-dir or key-prefix.`;
        return { saveable: false, accepted: [], problems: [problem], notes: [] };
    }
    const listing = await listCache(dir);
    const broken = [...listing.corrupt, ...(await withoutNar(dir, listing.entries)).map(i => `${i.hash}.narinfo`)];
    for (const name of broken) {
        listing.entries.delete(name.slice(0, -'.narinfo'.length));
        await fs.rm(path.join(dir, name), { force: true });
    }
    const problems = broken.length > 0 ? [`removed ${broken.length} corrupt narinfo file(s) from the restored cache (first: ${broken[0]}); Nix fetches or builds those paths instead.`] : [];
    const entries = [...listing.entries.values()];
    const accepted = trusted ? entries : entries.filter(e => e.sigs.some(sig => trustedKeys.some(key => verifySignature(fingerprintOf(e, storeDir), sig, key))));
    const notes = [`Restored binary cache: ${entries.length} store paths, ${accepted.length} usable${trusted ? ' (nix-trusted: signatures not checked)' : ''}.`];
    if (entries.length > 0 && accepted.length === 0)
        problems.push(signatureProblem(entries, trustedKeys));
    else if (accepted.length < entries.length)
        notes.push(`${entries.length - accepted.length} store paths carry no signature by a trusted key; Nix fetches or builds those instead.`);
    return { saveable: true, accepted: accepted.map(e => e.hash), problems, notes };
}
async function withoutNar(dir, entries) {
    const missing = [];
    for (const info of entries.values()) {
        const nar = path.resolve(dir, info.url);
        if (!nar.startsWith(dir + path.sep) || !(await fs.stat(nar).catch(() => null))?.isFile())
            missing.push(info);
    }
    return missing;
}
function signatureProblem(entries, trustedKeys) {
    const signers = [...new Set(entries.flatMap(e => e.sigs.map(keyName)))];
    const trustedNames = trustedKeys.map(keyName).join(', ') || 'none';
    if (signers.length === 0) {
        return `the restored cache is unsigned, so Nix refuses it and fetches or builds everything again: set nix-signing-key (and keep the same key) or nix-trusted: true.`;
    }
    return `the restored cache is signed by ${signers.join(', ')} but no signature verifies with the trusted keys (${trustedNames}), so Nix refuses it and fetches or builds instead: check nix-public-keys and nix-signing-key.`;
}
function warn(entry, problem) {
    core.warning(`nix: ${problem}`);
    entry.problems.push(problem.split('\n')[0]);
}

;// CONCATENATED MODULE: ./src/nix/save.ts










/**
 * Before the nix kind is measured and saved: classify the store paths the job added, copy them into the
 * binary cache directory, prune it, and put the figures on the ledger entry. Never fails the job.
 */
async function collectNixPaths(run) {
    const index = run.plans.findIndex(plan => plan.kind === 'nix');
    if (index < 0)
        return;
    const entry = run.entries[index];
    await lib_core/* group */.Os('Collect Nix store paths', async () => {
        try {
            await collect(run, entry);
        }
        catch (error) {
            const problem = `collecting Nix store paths failed, the cache is saved as restored: ${errors_stringifyError(error)}`;
            lib_core/* warning */.$e(`nix: ${problem}`);
            entry.problems.push(problem);
        }
        finally {
            await forgetPrivateKey(run.config);
        }
    });
}
async function collect(run, entry) {
    const record = await readJson(recordFile(run.snapshotDir));
    if (!record) {
        lib_core/* info */.pq('Nix was not set up in the main step; the cache directory is saved as it is.');
        return;
    }
    const valid = await store_paths_listValidPaths();
    const added = await pathInfos(newPaths(await readPathList(baselineFile(run.snapshotDir)), valid));
    const byOrigin = classify(added, new Set(record.accepted));
    const account = {
        built: tally(byOrigin.built),
        fromCache: tally(byOrigin.fromCache),
        fromUpstream: tally(byOrigin.fromUpstream),
        copied: { paths: 0, narBytes: 0 },
        pruned: { paths: 0, narBytes: 0 }
    };
    entry.nix = account;
    logAccount(account);
    const dir = run.config.nixDir;
    if (!record.saveable || !run.mode.write || run.config.save === 'never') {
        lib_core/* info */.pq('Not adding to the binary cache: it belongs to another store, or this run does not save.');
        return;
    }
    const before = await binary_cache_listCache(dir);
    const missing = added.filter(info => !before.entries.has(hashPartOf(info.path))).map(info => info.path);
    if (missing.length > 0)
        await copyToCache(dir, missing, run.config.nixSigningKeyFile);
    const after = await binary_cache_listCache(dir);
    account.copied = tally([...after.entries.values()].filter(info => !before.entries.has(info.hash)));
    account.pruned = await prune(dir, after.entries, new Set(valid.map(hashPartOf)), run.config);
    lib_core/* info */.pq(`Binary cache: ${fmt(account.copied)} added, ${fmt(account.pruned)} pruned`);
}
function classify(infos, accepted) {
    const groups = { built: [], fromCache: [], fromUpstream: [] };
    for (const info of infos)
        groups[originOf(info, accepted)].push(info);
    return groups;
}
/** Stamps what this run's store holds as used today, then drops what is stale or over the size limit. */
async function prune(dir, entries, validHashes, config) {
    const today = new Date();
    const used = new Set([...entries.keys()].filter(hash => validHashes.has(hash)));
    const lastUsed = stampUsed(await readLastUsed(dir), entries, used, today.toISOString().slice(0, 10));
    const drop = choosePrunable(entries, lastUsed, { maxBytes: config.nixMaxBytes, maxAgeMs: config.nixMaxAgeMs, now: today });
    if (drop.size > 0)
        await removeEntries(dir, entries, drop);
    for (const hash of drop)
        delete lastUsed[hash];
    await writeLastUsed(dir, lastUsed);
    return tally([...entries.values()].filter(info => drop.has(info.hash)));
}
function logAccount(account) {
    lib_core/* info */.pq(`New store paths: built here ${fmt(account.built)}; from the restored cache ${fmt(account.fromCache)}; downloaded from upstream ${fmt(account.fromUpstream)}`);
}
function fmt(t) {
    return `${t.paths} (${formatBytes(t.narBytes)})`;
}
/** The private copy of an inline signing key lives only as long as the job needs it. */
async function forgetPrivateKey(config) {
    const file = config.nixSigningKeyFile;
    if (file && external_node_path_.basename(external_node_path_.dirname(file)).startsWith('qdc-nix-key-'))
        await promises_.rm(external_node_path_.dirname(file), { recursive: true, force: true });
}

;// CONCATENATED MODULE: ./src/inplace/layout.ts



/*
 * In-place layout, beside the archive store's own folders:
 *
 *   <local-dir>/in-place/<kind>/            the kind's directory itself, used where it is
 *   <local-dir>/in-place/.meta/<kind>.json  the key of the last save, to tell exact from partial hits
 *   <local-dir>/in-place/.leases/<kind>/    one file per job using the kind (lease.ts)
 */
function inPlaceRoot(storeRoot) {
    return external_node_path_.join(storeRoot, 'in-place');
}
function inPlaceDir(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), kind);
}
function metaFile(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), '.meta', `${kind}.json`);
}
function layout_leaseDir(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), '.leases', kind);
}
/** The user's own paths are theirs: only the preset kinds move into the store. */
function layout_isInPlaceKind(kind) {
    return kind !== 'custom';
}
/** The kinds that have an in-place directory in this store. */
async function inPlaceKinds(storeRoot) {
    const names = await promises_.readdir(inPlaceRoot(storeRoot)).catch(() => []);
    return names.filter(name => !name.startsWith('.')).sort();
}
/**
 * Points every enabled kind at its directory in the store: the tools through the environment later
 * steps (or `qdc run`'s command) inherit, qdc's own directory kinds through the config.
 * Returns the variables to export.
 */
async function layout_useInPlaceDirectories(config) {
    const dir = (kind) => inPlaceDir(config.localDir, kind);
    config.podmanDir = dir('podman');
    config.nixDir = dir('nix');
    config.downloadsDir = dir('downloads');
    const env = {};
    if (config.kinds.includes('pip'))
        env[Env.PipCacheDir] = dir('pip');
    if (config.kinds.includes('huggingface'))
        env[Env.HfHubCache] = dir('huggingface');
    if (config.kinds.includes('buildah'))
        env[Env.TmpDir] = dir('buildah');
    for (const kind of config.kinds.filter(layout_isInPlaceKind))
        await fs.mkdir(dir(kind), { recursive: true });
    return env;
}

;// CONCATENATED MODULE: ./src/inplace/backend.ts



/**
 * A kind whose directory lives in the store: restore finds what is there, save records the key.
 * Nothing is copied either way; the hit says whether the content was last saved under this key.
 */
class InPlaceBackend {
    storeRoot;
    kind;
    name = 'in-place';
    constructor(storeRoot, kind) {
        this.storeRoot = storeRoot;
        this.kind = kind;
    }
    async restore(spec, key) {
        if (!(await anyEntry(spec.paths)))
            return undefined;
        const meta = await readJson(metaFile(this.storeRoot, this.kind)).catch(() => null);
        // Content no save recorded (a job that died, files put there by hand) is still a useful partial hit.
        return { matchedKey: meta?.key ?? `${key} (in place, never saved)`, archiveBytes: null };
    }
    async save(_spec, key) {
        await atomic_writeFileAtomic(metaFile(this.storeRoot, this.kind), JSON.stringify({ key, saved: Date.now() }));
        return { archiveBytes: null };
    }
}
async function anyEntry(paths) {
    for (const dir of paths) {
        if ((await promises_.readdir(dir).catch(() => [])).length > 0)
            return true;
    }
    return false;
}

;// CONCATENATED MODULE: ./src/inplace/lease.ts








/** Longer than any job; only guards against pid reuse and hosts we cannot ask. */
const MAX_LEASE_MS = 24 * 60 * 60 * 1000;
const MUTEX_RETRIES = { retries: 40, factor: 1.3, minTimeout: 20, maxTimeout: 1000 };
class LeaseBusyError extends Error {
}
/**
 * A shared lease waits (up to waitMs) for maintenance to finish; an exclusive one never waits for jobs,
 * it fails with LeaseBusyError at once, so prune can skip a busy kind.
 */
async function lease_acquireLease(storeRoot, kind, mode, waitMs = 10 * 60 * 1000) {
    const dir = layout_leaseDir(storeRoot, kind);
    await promises_.mkdir(dir, { recursive: true });
    const deadline = Date.now() + waitMs;
    for (;;) {
        const taken = await withMutex(dir, async () => {
            const live = await liveLeases(dir);
            const blocked = mode === 'exclusive' ? live.length > 0 : live.some(lease => lease.mode === 'exclusive');
            if (blocked)
                return null;
            const file = external_node_path_.join(dir, `${external_node_crypto_.randomBytes(8).toString('hex')}.json`);
            const record = { mode, pid: holderPid(), host: external_node_os_.hostname(), created: Date.now() };
            await atomic_writeFileAtomic(file, JSON.stringify(record));
            return file;
        });
        if (taken)
            return taken;
        if (mode === 'exclusive')
            throw new LeaseBusyError(`${kind} is in use by a running job`);
        if (Date.now() >= deadline)
            throw new LeaseBusyError(`${kind} stayed locked by maintenance (prune or clear) for ${Math.round(waitMs / 1000)} s`);
        await new Promise(resolve => setTimeout(resolve, 200));
    }
}
async function releaseLease(lease) {
    await promises_.rm(lease, { force: true });
}
/** Leases still held, for stats. */
async function countLiveLeases(storeRoot, kind) {
    return (await liveLeases(leaseDir(storeRoot, kind))).length;
}
function holderPid() {
    const configured = Number(process.env[constants_Env.LeasePid]);
    if (Number.isSafeInteger(configured) && configured > 0)
        return configured;
    // Under a runner, main's parent is the worker that also starts post and outlives both.
    return process.env.GITHUB_ACTIONS === 'true' ? process.ppid : process.pid;
}
/** Live leases in dir; dead ones (holder gone, too old, unreadable) are removed on the way. */
async function liveLeases(dir) {
    const live = [];
    for (const name of await promises_.readdir(dir).catch(() => [])) {
        if (!name.endsWith('.json'))
            continue;
        const file = external_node_path_.join(dir, name);
        const record = await readJson(file).catch(() => null);
        if (record && isLive(record))
            live.push(record);
        else
            await promises_.rm(file, { force: true });
    }
    return live;
}
function isLive(record) {
    if (!Number.isFinite(record.created) || Date.now() - record.created > MAX_LEASE_MS)
        return false;
    if (record.host !== external_node_os_.hostname())
        return true;
    try {
        process.kill(record.pid, 0);
        return true;
    }
    catch (error) {
        // EPERM: alive, owned by another user.
        return error.code === 'EPERM';
    }
}
async function withMutex(dir, work) {
    const release = await proper_lockfile_default().lock(dir, { realpath: false, retries: MUTEX_RETRIES });
    try {
        return await work();
    }
    finally {
        await release();
    }
}

;// CONCATENATED MODULE: ./src/inplace/index.ts





/** In-place applies to the local store only; on GitHub's cache service there is no disk to share. */
function usesInPlace(config, backend) {
    return config.localMode === 'in-place' && backend === 'local';
}
/** Before planning: the kinds' directories move into the store and the tools are told so. */
async function prepareInPlace(config) {
    for (const [name, value] of Object.entries(await useInPlaceDirectories(config))) {
        core.exportVariable(name, value);
        core.info(`in place: ${name}=${value}`);
    }
}
/** One shared lease per in-place kind, held until post has measured and saved. */
async function takeLeases(config, kinds) {
    const leases = {};
    for (const kind of kinds.filter(isInPlaceKind))
        leases[kind] = await acquireLease(config.localDir, kind, 'shared');
    return leases;
}
async function releaseLeases(leases) {
    for (const [kind, lease] of Object.entries(leases ?? {})) {
        await releaseLease(lease).catch(error => lib_core/* warning */.$e(`${kind}: could not release the in-place lease ${lease}: ${errors_stringifyError(error)}`));
    }
}
/** The store a kind's plan restores from and saves to. */
function backendForKind(kind, shared, config, inPlace) {
    return inPlace && layout_isInPlaceKind(kind) ? new InPlaceBackend(config.localDir, kind) : shared;
}

;// CONCATENATED MODULE: ./src/inplace/history.ts



const HISTORY_FILE = 'history.jsonl';
/** Kept on append; older lines are dropped so the file stays small on a busy runner. */
const MAX_LINES = 5000;
function historyFile(storeRoot) {
    return external_node_path_.join(storeRoot, HISTORY_FILE);
}
/**
 * Appends with O_APPEND and one write per run: concurrent jobs' lines never interleave. Trimming is
 * a rare rewrite and may drop a line a concurrent job appended at that moment; it is history, not data.
 */
async function appendHistory(storeRoot, entries, now = Date.now()) {
    const lines = entries.map(e => JSON.stringify({ time: now, kind: e.kind, backend: e.backend, hit: e.hit, downloadedBytes: e.downloadedBytes, reusedBytes: e.reusedBytes, saved: e.saved }));
    await promises_.mkdir(storeRoot, { recursive: true });
    await promises_.appendFile(historyFile(storeRoot), lines.map(line => line + '\n').join(''));
    const all = await readHistory(storeRoot);
    if (all.length > MAX_LINES) {
        await atomic_writeFileAtomic(historyFile(storeRoot), all.slice(-MAX_LINES / 2).map(line => JSON.stringify(line) + '\n').join(''));
    }
}
/** Oldest first; lines that do not parse (a torn write after a crash) are skipped. */
async function readHistory(storeRoot) {
    const text = await promises_.readFile(historyFile(storeRoot), 'utf8').catch(() => '');
    const lines = [];
    for (const raw of text.split('\n')) {
        if (!raw.trim())
            continue;
        try {
            lines.push(JSON.parse(raw));
        }
        catch {
            continue;
        }
    }
    return lines;
}

;// CONCATENATED MODULE: ./src/inplace/prune.ts




/**
 * One cap and one age rule for the whole store: archive entries and in-place files compete, the
 * least recently used going first, whatever it is. In-place kinds are pruned under an exclusive
 * lease; a kind a job is using is skipped (its files still count).
 */
async function pruneStore(store, storeRoot, options, now = Date.now()) {
    const leases = [];
    const busyKinds = [];
    const files = [];
    const pinnedBytes = [];
    try {
        for (const kind of await inPlaceKinds(storeRoot)) {
            const found = await listFiles(kind, inPlaceDir(storeRoot, kind));
            const lease = await lease_acquireLease(storeRoot, kind, 'exclusive').catch((error) => {
                if (error instanceof LeaseBusyError)
                    return null;
                throw error;
            });
            if (lease === null) {
                busyKinds.push(kind);
                pinnedBytes.push(...found.map(f => f.bytes));
            }
            else {
                leases.push(lease);
                files.push(...found);
            }
        }
        const entries = await store.listEntries();
        const items = [...entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entry.bytes, entry })), ...files.map(file => ({ lastUsed: file.lastUsed, bytes: file.bytes, file }))];
        const doomed = chooseItems(items, pinnedBytes.reduce((a, b) => a + b, 0), options, now);
        const keptArchiveBytes = entries.filter(entry => !doomed.some(item => item.entry === entry)).reduce((sum, entry) => sum + entry.bytes, 0);
        // The store applies the same age rule and evicts its least recently used first: the same entries.
        const archive = await store.prune({ maxAgeMs: options.maxAgeMs, maxBytes: keptArchiveBytes, dryRun: options.dryRun });
        const doomedFiles = doomed.flatMap(item => (item.file ? [item.file] : []));
        if (!options.dryRun)
            await removeFiles(doomedFiles, storeRoot);
        const freedFileBytes = doomedFiles.reduce((sum, f) => sum + f.bytes, 0);
        const total = items.reduce((sum, item) => sum + item.bytes, 0) + pinnedBytes.reduce((a, b) => a + b, 0);
        return {
            entries: archive.entries,
            files: doomedFiles,
            bytes: archive.bytes + freedFileBytes,
            busyKinds,
            remainingBytes: total - freedFileBytes - archive.entries.reduce((sum, e) => sum + e.bytes, 0)
        };
    }
    finally {
        await Promise.all(leases.map(releaseLease));
    }
}
function chooseItems(items, pinned, options, now) {
    const { maxAgeMs, maxBytes } = options;
    const byLastUse = [...items].sort((a, b) => a.lastUsed - b.lastUsed);
    const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(item => now - item.lastUsed > maxAgeMs));
    let total = pinned + byLastUse.filter(item => !expired.has(item)).reduce((sum, item) => sum + item.bytes, 0);
    const evicted = [];
    for (const item of byLastUse) {
        if (maxBytes === undefined || total <= maxBytes)
            break;
        if (expired.has(item))
            continue;
        evicted.push(item);
        total -= item.bytes;
    }
    return [...expired, ...evicted];
}
/** Regular files and symlinks below dir, without following links. */
async function listFiles(kind, dir) {
    const found = [];
    const walk = async (entry) => {
        const stat = await promises_.lstat(entry).catch(() => null);
        if (!stat)
            return;
        if (stat.isDirectory()) {
            for (const name of await promises_.readdir(entry).catch(() => []))
                await walk(external_node_path_.join(entry, name));
            return;
        }
        found.push({ kind, file: entry, bytes: stat.size, lastUsed: Math.max(stat.atimeMs, stat.mtimeMs) });
    };
    await walk(dir);
    return found;
}
async function removeFiles(files, storeRoot) {
    await Promise.all(files.map(f => promises_.rm(f.file, { force: true })));
    for (const kind of new Set(files.map(f => f.kind)))
        await tidy(inPlaceDir(storeRoot, kind), true);
}
/**
 * After files went: links that now point nowhere (a hub snapshot whose blob was pruned) and folders
 * left empty go too, so the tools see a file as missing rather than broken. Returns whether `dir` is empty.
 */
async function tidy(dir, isRoot = false) {
    let empty = true;
    for (const name of await promises_.readdir(dir).catch(() => [])) {
        const entry = external_node_path_.join(dir, name);
        const stat = await promises_.lstat(entry).catch(() => null);
        if (stat?.isDirectory()) {
            if (await tidy(entry))
                await promises_.rmdir(entry).catch(() => undefined);
            else
                empty = false;
        }
        else if (stat?.isSymbolicLink() && (await promises_.stat(entry).catch(() => null)) === null) {
            await promises_.rm(entry, { force: true });
        }
        else if (stat) {
            empty = false;
        }
    }
    return empty && !isRoot;
}

;// CONCATENATED MODULE: ./src/save/run.ts













/** The post step: measure, save, report. It only ever warns: a cache problem never fails the job. */
async function runPost() {
    try {
        const run = loadRunState();
        if (!run) {
            lib_core/* info */.pq('The main step did not finish; nothing to save.');
            return;
        }
        const backend = openBackend(run.backend, run.config);
        const context = { backend, mode: run.mode, save: run.config.save, snapshotDir: run.snapshotDir };
        await collectNixPaths(run);
        for (const [index, plan] of run.plans.entries()) {
            const kindContext = { ...context, backend: backendForKind(plan.kind, backend, run.config, run.leases !== undefined) };
            await lib_core/* group */.Os(`Save ${plan.kind}`, () => saveOne(plan, run.entries[index], run.fingerprints[plan.kind], kindContext));
        }
        await releaseLeases(run.leases);
        if (backend instanceof LocalStore) {
            await pruneLocalStore(backend, run.config);
            await appendHistory(run.config.localDir, run.entries).catch(error => lib_core/* warning */.$e(`Could not append to the store's run history: ${errors_stringifyError(error)}`));
        }
        await publish(run.entries, run.config.reportPath, run.config.summary);
        await promises_.rm(run.snapshotDir, { recursive: true, force: true });
    }
    catch (error) {
        lib_core/* warning */.$e(`qdc-action post step: ${errors_stringifyError(error)}`);
    }
}
async function pruneLocalStore(store, config) {
    await lib_core/* group */.Os('Prune local store', async () => {
        try {
            const pruned = await pruneStore(store, config.localDir, { maxAgeMs: config.localMaxAgeMs, maxBytes: config.localMaxBytes });
            const files = pruned.files.length > 0 ? ` and ${pruned.files.length} in-place file(s)` : '';
            lib_core/* info */.pq(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${files}, ${formatBytes(pruned.bytes)}`);
            if (pruned.busyKinds.length > 0)
                lib_core/* info */.pq(`In use by another job, not pruned: ${pruned.busyKinds.join(', ')}`);
        }
        catch (error) {
            lib_core/* warning */.$e(`Pruning the local store failed: ${errors_stringifyError(error)}`);
        }
    });
}


/***/ })

};
