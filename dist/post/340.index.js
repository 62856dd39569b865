export const id = 340;
export const ids = [340];
export const modules = {

/***/ 3340:
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
    await syncDirectory(external_node_path_.dirname(file));
}
/**
 * Leaves a file that already holds `content` untouched: rewriting it would change its mtime, which
 * the byte ledger reads as new content to download and save again.
 */
async function writeFileAtomicIfChanged(file, content) {
    const current = await fs.readFile(file, 'utf8').catch(() => null);
    if (current !== content)
        await atomic_writeFileAtomic(file, content);
}
async function syncDirectory(dir) {
    const handle = await promises_.open(dir, 'r');
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

parentPort.on('message', message => {
  switch (message.op) {
    case 'begin':
      streams.set(message.id, begin(message.specs))
      break
    case 'update':
      for (const hash of streams.get(message.id) || []) hash.update(new Uint8Array(message.chunk))
      break
    case 'digest':
      reply(message.id, () => {
        const hashes = streams.get(message.id)
        streams.delete(message.id)
        return hashes ? hashes.map(hash => hash.digest('hex')) : Promise.reject(new Error('digest of a stream that was not begun'))
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
    request(slot, id, message) {
        return new Promise((resolve, reject) => {
            if (slot.failure)
                return reject(slot.failure);
            this.pending.set(id, { slot, resolve: resolve, reject });
            slot.worker.postMessage({ ...message, id });
        });
    }
    spawn() {
        // No inherited flags: `--input-type=module` would make the CommonJS source above fail to start.
        const worker = new external_node_worker_threads_.Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
        const slot = { worker, load: 0 };
        worker.on('message', (message) => {
            const waiting = this.pending.get(message.id);
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
    }
}
let shared;
function pool() {
    shared ??= new HashPool(Math.max(1, (0,external_node_os_.availableParallelism)()));
    return shared;
}
/**
 * Digests of bytes fed in order, computed on a worker thread. `update` only posts the bytes, so the
 * caller's next read or write overlaps the hashing; `digests` waits for the worker to catch up.
 */
class StreamDigest {
    slot;
    id;
    specs;
    closed = false;
    constructor(specs) {
        this.specs = specs;
        ({ slot: this.slot, id: this.id } = pool().acquire());
        this.reset();
    }
    /** Takes the bytes: a chunk that owns its memory is moved to the worker and is empty afterwards. */
    update(chunk) {
        // A buffer that owns its whole memory moves to the worker without a copy; a slice of Node's shared
        // pool must be copied, since moving it would take the pool away from every other buffer.
        const ownsMemory = chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.byteLength && chunk.buffer instanceof ArrayBuffer;
        const buffer = ownsMemory ? chunk.buffer : new Uint8Array(chunk).buffer;
        this.slot.worker.postMessage({ op: 'update', id: this.id, chunk: buffer }, [buffer]);
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
        this.slot.worker.postMessage({ op: 'end', id: this.id });
        pool().release(this.slot);
    }
}
/**
 * Hashes the first `size` bytes of a file on a worker thread, by path or by an open descriptor (read
 * with positioned reads, so another reader of the same descriptor, such as tar on stdin, is not moved).
 */
async function digestFile(source, size, specs) {
    const { slot, id } = pool().acquire();
    try {
        return await pool().request(slot, id, { op: 'file', ...source, size, specs });
    }
    finally {
        pool().release(slot);
    }
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
    constructor(root, clock = Date.now) {
        this.root = root;
        this.clock = clock;
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
                const stage = await extractPart(handles[index], part, spec.paths[index], meta.key);
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
                parts: staged.map(({ part }) => part)
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
            await syncDirectory(dir);
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
            await syncDirectory(dir);
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
    return { key: meta.key, version: meta.version, bytes: entryBytes(meta), created: meta.created, lastUsed: meta.lastUsed };
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
async function extractPart(handle, part, target, key) {
    if (part.kind === 'missing' || !handle)
        return null;
    const { size } = await handle.stat();
    if (size !== part.bytes)
        throw corrupt(key, `archive for ${part.path} is ${size} bytes, ${part.bytes} were written`);
    const staging = await makeStaging(target);
    try {
        const [digest, tarProblem] = await Promise.all([hashHandle(handle, size), untar(handle, staging)]);
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
async function hashHandle(handle, size) {
    const { digests } = await digestFile({ fd: handle.fd }, size, [{ algorithm: 'sha256' }]);
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
        await syncDirectory(external_node_path_.dirname(created));
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
    return name === 'github' ? new GitHubBackend() : new LocalStore(config.localDir);
}

;// CONCATENATED MODULE: ./src/constants.ts
/** Every input, output, state and environment name the action uses, in one place. */
var Inputs;
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
})(Inputs || (Inputs = {}));
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
var Env;
(function (Env) {
    /** Read by `post-if` in action.yml: inputs are not visible there, the environment is. */
    Env["SaveOnFailure"] = "QDC_SAVE_ON_FAILURE";
    /** The service-enforced cache mode (`read`, `write`, `write-only`, `none`). */
    Env["CacheMode"] = "ACTIONS_CACHE_MODE";
    Env["HfEndpoint"] = "HF_ENDPOINT";
    Env["HfHubCache"] = "HF_HUB_CACHE";
    Env["HfHubOffline"] = "HF_HUB_OFFLINE";
})(Env || (Env = {}));
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
function stringifyError(error) {
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
            saveMs: Math.round(e.saveMs)
        })),
        totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent }
    };
}
async function writeReport(file, entries) {
    await atomic_writeFileAtomic(file, JSON.stringify(buildReport(entries), null, 2) + '\n');
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
    const files = entries.flatMap(e => e.files ?? []);
    if (files.length > 0)
        lines.push('', ...renderFiles(files));
    const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`));
    if (problems.length > 0)
        lines.push('', ...problems);
    return lines.join('\n') + '\n';
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
        lib_core/* warning */.$e(`Could not write the report to ${reportPath}: ${stringifyError(error)}`);
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
async function probe(command, args, env) {
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
let probed;
/** Probed once per process: locate and key both need it. */
function containerTool() {
    probed ??= probeContainerTool();
    return probed;
}
async function probeContainerTool() {
    const podman = firstVersion(await probe('podman', ['--version']));
    if (podman)
        return { name: 'podman', version: podman };
    return { name: 'buildah', version: firstVersion(await probe('buildah', ['--version'])) };
}
function usesUidSuffix(tool) {
    if (!tool.version)
        return true;
    const [major, minor] = tool.version.split('.').map(Number);
    const [sinceMajor, sinceMinor] = UID_SUFFIX_SINCE[tool.name];
    return major > sinceMajor || (major === sinceMajor && minor >= sinceMinor);
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
    const version = firstVersion(await probe(tool, ['--version']));
    return { name: tool, value: `${tool}${version ?? '-none'}`, source: `${tool} --version` };
}
const podman = directoryKind('podman', config => config.podmanDir, 'layer-cache directory (an OCI layout served to podman as --cache-from/--cache-to)', async () => [...platformParts(), await toolPart('podman')]);
const nix = directoryKind('nix', config => config.nixDir, 'file:// binary cache directory (nix-cache-info, *.narinfo, nar/)', async () => [...platformParts(), await toolPart('nix')]);
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
        const python = firstVersion(await probe('python3', ['--version'])) ?? 'none';
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
    const reported = await probe('python3', ['-m', 'pip', 'cache', 'dir']);
    if (reported) {
        notes.push('pip cache directory from `python3 -m pip cache dir`');
        return reported.split('\n').pop().trim();
    }
    const fallback = external_node_path_.join(process.env.XDG_CACHE_HOME || external_node_path_.join(external_node_os_.homedir(), '.cache'), 'pip');
    notes.push(`pip did not report its cache directory (not installed, or caching disabled); using ${fallback}`);
    return fallback;
}

;// CONCATENATED MODULE: ./src/kinds/index.ts





const KINDS = { pip: pip, buildah: buildah, huggingface: huggingface, podman: podman, nix: nix, downloads: downloads, custom: custom };
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
        entry.problems.push(`pruning failed, saving unpruned: ${stringifyError(error)}`);
        lib_core/* warning */.$e(`${plan.kind}: pruning failed, saving unpruned: ${stringifyError(error)}`);
    }
}
/** downloaded = what appeared or changed since the restore; reused = restored bytes still there, unchanged. */
async function account(plan, entry, now, snapshotDir) {
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
        const result = await context.backend.save({ paths: plan.paths, exclude: plan.exclude }, key);
        entry.uploadedBytes = result.archiveBytes ?? 0;
        lib_core/* info */.pq(`Saved ${key}${result.archiveBytes === null ? '' : ` (${formatBytes(result.archiveBytes)} archive)`}`);
        return 'saved';
    }
    catch (error) {
        const problem = `save failed, the job goes on: ${stringifyError(error)}`;
        lib_core/* warning */.$e(`${plan.kind}: ${problem}`);
        entry.problems.push(problem);
        return 'failed';
    }
}
function said(outcome, message) {
    lib_core/* info */.pq(message);
    return outcome;
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
        for (const [index, plan] of run.plans.entries()) {
            await lib_core/* group */.Os(`Save ${plan.kind}`, () => saveOne(plan, run.entries[index], run.fingerprints[plan.kind], context));
        }
        if (backend instanceof LocalStore)
            await pruneLocalStore(backend, run.config);
        await publish(run.entries, run.config.reportPath, run.config.summary);
        await promises_.rm(run.snapshotDir, { recursive: true, force: true });
    }
    catch (error) {
        lib_core/* warning */.$e(`qdc-action post step: ${stringifyError(error)}`);
    }
}
async function pruneLocalStore(store, config) {
    await lib_core/* group */.Os('Prune local store', async () => {
        try {
            const pruned = await store.prune({ maxAgeMs: config.localMaxAgeMs, maxBytes: config.localMaxBytes });
            lib_core/* info */.pq(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}, ${formatBytes(pruned.bytes)}`);
        }
        catch (error) {
            lib_core/* warning */.$e(`Pruning the local store failed: ${stringifyError(error)}`);
        }
    });
}


/***/ })

};
