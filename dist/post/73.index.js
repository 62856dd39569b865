export const id = 73;
export const ids = [73];
export const modules = {

/***/ 1073:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runPost: () => (/* binding */ runPost)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 7 modules
var lib_core = __webpack_require__(3838);
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
    Inputs["SaveOnUntrustedTriggers"] = "save-on-untrusted-triggers";
    Inputs["MaxDownloaded"] = "max-downloaded";
    Inputs["MaxDownloadedPerKind"] = "max-downloaded-per-kind";
    Inputs["OnBudget"] = "on-budget";
    Inputs["BaselineRuns"] = "baseline-runs";
    Inputs["History"] = "history";
    Inputs["PrComment"] = "pr-comment";
    Inputs["GithubToken"] = "github-token";
    Inputs["AssumedBandwidth"] = "assumed-bandwidth";
    Inputs["DownloadConnections"] = "download-connections";
    Inputs["IdleTimeout"] = "idle-timeout";
    Inputs["S3Bucket"] = "s3-bucket";
    Inputs["S3Prefix"] = "s3-prefix";
    Inputs["S3Endpoint"] = "s3-endpoint";
    Inputs["S3Region"] = "s3-region";
    Inputs["S3ForcePathStyle"] = "s3-force-path-style";
    Inputs["S3IdleTimeout"] = "s3-idle-timeout";
    Inputs["S3MaxAge"] = "s3-max-age";
    Inputs["S3MaxSize"] = "s3-max-size";
})(constants_Inputs || (constants_Inputs = {}));
var Outputs;
(function (Outputs) {
    Outputs["CacheHit"] = "cache-hit";
    Outputs["Hits"] = "hits";
    Outputs["BytesDownloaded"] = "bytes-downloaded";
    Outputs["BytesReused"] = "bytes-reused";
    Outputs["Report"] = "report";
    Outputs["BudgetExceeded"] = "budget-exceeded";
    Outputs["SummaryMarkdown"] = "summary-markdown";
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
    /** The workflow's trigger; some run pull-request code with the base repository's cache scope. */
    Env["EventName"] = "GITHUB_EVENT_NAME";
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
    /** The AWS credential chain's variables (aws-actions/configure-aws-credentials exports them): masked. */
    Env["AwsAccessKeyId"] = "AWS_ACCESS_KEY_ID";
    Env["AwsSecretAccessKey"] = "AWS_SECRET_ACCESS_KEY";
    Env["AwsSessionToken"] = "AWS_SESSION_TOKEN";
})(Env || (Env = {}));
/** Bumped when the archive layout or key scheme changes, so old entries are never misread. */
const constants_KEY_SCHEME = 'v1';
/** Separates a primary key from the revision a save appends: entries are immutable, content is not. */
const constants_REVISION_SEPARATOR = '~r';

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/util/temp.ts

/** The runner's per-job temp directory (cleaned by the runner after the job), else the system's. */
function temp_runnerTemp() {
    return process.env.RUNNER_TEMP || external_node_os_.tmpdir();
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
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
function inputs_getString(name, fallback) {
    const value = core.getInput(name).trim();
    return value === '' ? fallback : value;
}
function inputs_getStringOrNull(name) {
    const value = core.getInput(name).trim();
    return value === '' ? null : value;
}
function inputs_getBool(name, fallback) {
    const value = core.getInput(name).trim().toLowerCase();
    if (value === '')
        return fallback;
    if (['true', 'yes', '1', 'on'].includes(value))
        return true;
    if (['false', 'no', '0', 'off'].includes(value))
        return false;
    throw new inputs_InputError(name, `expected true or false, got '${value}'`);
}
function inputs_getChoice(name, choices, fallback) {
    const value = core.getInput(name).trim().toLowerCase();
    if (value === '')
        return fallback;
    if (choices.includes(value))
        return value;
    throw new inputs_InputError(name, `expected one of ${choices.join(', ')}, got '${value}'`);
}
/** One item per line; commas also separate items unless `lines` says the items may hold commas. */
function inputs_getList(name, separators) {
    const raw = core.getInput(name);
    const pattern = separators === 'lines' ? /\r?\n/ : /\r?\n|,/;
    return raw
        .split(pattern)
        .map(item => item.trim())
        .filter(item => item !== '' && !item.startsWith('#'));
}
const SIZE_UNITS = {
    '': 1,
    b: 1,
    k: 1024,
    kb: 1024,
    m: 1024 ** 2,
    mb: 1024 ** 2,
    g: 1024 ** 3,
    gb: 1024 ** 3,
    t: 1024 ** 4,
    tb: 1024 ** 4
};
/** Parses `500M`, `50G`, `1.5GiB`, `1024` (bytes); null when unset. */
function inputs_parseSize(name, raw) {
    const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)$/i.exec(raw.trim());
    const unit = match?.[2].toLowerCase().replace('i', '');
    if (!match || unit === undefined || !(unit in SIZE_UNITS)) {
        throw new inputs_InputError(name, `'${raw}' is not a size; write it like 500M, 20G or 1T`);
    }
    return Math.round(Number(match[1]) * SIZE_UNITS[unit]);
}
const AGE_UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Parses `30d`, `12h`, `90m`, `2w`. */
function inputs_parseAge(name, raw) {
    const match = /^(\d+)\s*([smhdw])$/i.exec(raw.trim());
    if (!match)
        throw new inputs_InputError(name, `'${raw}' is not an age; write it like 30d, 12h or 2w`);
    return Number(match[1]) * AGE_UNITS[match[2].toLowerCase()];
}
/** A manifest file's lines, as an input's: trimmed, without blanks and `#` comments. */
function inputs_readManifestLines(file) {
    return fs
        .readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .map(line => line.trim())
        .filter(line => line !== '' && !line.startsWith('#'));
}

;// CONCATENATED MODULE: ./src/config/downloads.ts




/** Lines of `url sha256 dest`, or a single line naming a manifest file of such lines. */
function downloads_parseDownloads(lines, workspace) {
    const manifest = lines.length === 1 && lines[0].split(/\s+/).length === 1 ? path.resolve(workspace, lines[0]) : null;
    if (manifest === null)
        return lines.map(line => parseDownloadLine(line, workspace));
    if (!fs.existsSync(manifest))
        throw new InputError(Inputs.Downloads, `'${lines[0]}' is neither 'url sha256 dest' nor a manifest file that exists`);
    return readManifestLines(manifest).map(line => parseDownloadLine(line, workspace));
}
function parseDownloadLine(line, workspace) {
    const fields = line.split(/\s+/);
    if (fields.length !== 3)
        throw new InputError(Inputs.Downloads, `'${line}' should be three fields: url sha256 dest`);
    const [url, digest, dest] = fields;
    if (!/^https?:\/\/[^/]+/.test(url))
        throw new InputError(Inputs.Downloads, `'${url}' is not an http(s) URL`);
    const sha256 = digest.replace(/^sha256:/i, '');
    if (!/^[0-9a-fA-F]{64}$/.test(sha256))
        throw new InputError(Inputs.Downloads, `'${digest}' for ${url} is not a sha256 (64 hex digits)`);
    return { url, sha256: sha256.toLowerCase(), dest: path.resolve(workspace, dest) };
}

;// CONCATENATED MODULE: ./src/config/hub.ts

const DEFAULT_ENDPOINT = 'https://huggingface.co';
/**
 * The Hub to talk to: the given value, else HF_ENDPOINT like huggingface_hub, else huggingface.co, without
 * trailing slashes. `name` is the input or flag to blame when it is not an http(s) URL.
 */
function hub_hubEndpoint(name, given) {
    const endpoint = (given || process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(endpoint))
        throw new InputError(name, `'${endpoint}' is not an http(s) URL`);
    return endpoint;
}
/** The given token, else the one huggingface_hub itself would use (HF_TOKEN, HUGGING_FACE_HUB_TOKEN). */
function hubToken(given) {
    return given?.trim() || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

;// CONCATENATED MODULE: ./src/config/models.ts





const PIN = /^(.+)=sha256:(.*)$/;
/** Lines of the input, or, when the input is one existing file's path, the lines of that manifest. */
function models_parseModels(lines, workspace) {
    const manifest = lines.length === 1 ? path.resolve(workspace, lines[0]) : null;
    if (manifest === null || !fs.statSync(manifest, { throwIfNoEntry: false })?.isFile())
        return lines.map(parseModelLine);
    return readManifestLines(manifest).map(parseModelLine);
}
function parseModelLine(line) {
    const [repo, ...rest] = line.split(/\s+/);
    try {
        parseRepoRef(repo);
    }
    catch (error) {
        throw new InputError(Inputs.Models, `'${repo}' is not a repo: ${error.message}; write org/name[@revision]`);
    }
    const globs = [];
    const pins = {};
    for (const token of rest) {
        const pin = PIN.exec(token);
        if (!pin) {
            globs.push(token);
            continue;
        }
        if (!/^[0-9a-fA-F]{64}$/.test(pin[2])) {
            throw new InputError(Inputs.Models, `pin for '${pin[1]}' is not a sha256 (64 hex digits): '${pin[2]}'`);
        }
        pins[pin[1]] = pin[2].toLowerCase();
    }
    return { repo, globs, pins };
}

;// CONCATENATED MODULE: ./src/config/s3.ts


const DEFAULT_PREFIX = 'qdc/';
const DEFAULT_IDLE_TIMEOUT = '60s';
/** The `s3-*` inputs, checked: a wrong endpoint URL or a malformed bucket name fails main with one line. */
function s3_readS3Settings() {
    const endpoint = readEndpoint(getStringOrNull(Inputs.S3Endpoint));
    const maxAge = getStringOrNull(Inputs.S3MaxAge);
    const maxSize = getStringOrNull(Inputs.S3MaxSize);
    return {
        bucket: readBucket(getStringOrNull(Inputs.S3Bucket)),
        prefix: readPrefix(getString(Inputs.S3Prefix, DEFAULT_PREFIX)),
        endpoint,
        region: readRegion(getStringOrNull(Inputs.S3Region)),
        // Self-hosted servers (MinIO, Ceph RGW, Garage, versitygw) rarely have a wildcard DNS name per bucket.
        forcePathStyle: getBool(Inputs.S3ForcePathStyle, endpoint !== null),
        idleTimeoutMs: readIdleTimeout(getString(Inputs.S3IdleTimeout, DEFAULT_IDLE_TIMEOUT)),
        maxAgeMs: maxAge === null ? null : parseAge(Inputs.S3MaxAge, maxAge),
        maxBytes: maxSize === null ? null : parseSize(Inputs.S3MaxSize, maxSize)
    };
}
/** `s3://bucket/prefix/`, how logs and `qdc` name the store. */
function s3_describeS3Store(settings) {
    return `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
}
/**
 * The S3 naming rules every server enforces for new buckets: 3-63 characters, lowercase letters, digits,
 * dots and hyphens, starting and ending with a letter or digit, no `..`, not shaped like an IP address.
 */
function readBucket(raw) {
    if (raw === null)
        throw new InputError(Inputs.S3Bucket, `is empty; name the bucket the s3 backend keeps its entries in`);
    const problem = raw.length < 3 || raw.length > 63
        ? 'is not 3 to 63 characters long'
        : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(raw)
            ? 'may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit'
            : raw.includes('..')
                ? "contains '..'"
                : /^\d+\.\d+\.\d+\.\d+$/.test(raw)
                    ? 'is shaped like an IP address'
                    : null;
    if (problem)
        throw new InputError(Inputs.S3Bucket, `'${raw}' is not a bucket name: it ${problem}`);
    return raw;
}
/**
 * http(s)://host[:port][/path], nothing else: credentials in the URL would be a secret in the workflow file
 * (and in the run state), and a query or fragment has no meaning for an endpoint.
 */
function readEndpoint(raw) {
    if (raw === null)
        return null;
    let url;
    try {
        url = new URL(raw);
    }
    catch {
        throw new InputError(Inputs.S3Endpoint, `'${raw}' is not a URL; write it like https://s3.example.org or http://127.0.0.1:7480`);
    }
    // Never echo a value that carries credentials.
    const shown = url.username || url.password ? `${url.protocol}//…@${url.host}` : raw;
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new InputError(Inputs.S3Endpoint, `'${shown}' is not an http:// or https:// URL`);
    if (url.username || url.password) {
        throw new InputError(Inputs.S3Endpoint, `'${shown}' holds credentials; give them through the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, web identity), never in an input`);
    }
    if (url.search || url.hash)
        throw new InputError(Inputs.S3Endpoint, `'${shown}' has a query or fragment; give the server's base URL only`);
    return url.href.replace(/\/$/, '');
}
function readRegion(raw) {
    if (raw !== null && !/^[a-z0-9-]+$/i.test(raw))
        throw new InputError(Inputs.S3Region, `'${raw}' is not a region name (like us-east-1)`);
    return raw;
}
/** Object names are relative to the prefix: no leading slash, and a trailing one added. */
function readPrefix(raw) {
    if (raw.startsWith('/'))
        throw new InputError(Inputs.S3Prefix, `'${raw}' starts with '/'; write it like qdc/ or team-a/qdc/`);
    if (/[\\{}^%`"<>#|~]/.test(raw) || [...raw].some(char => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
        throw new InputError(Inputs.S3Prefix, `'${raw}' contains characters S3 object names should not hold`);
    if (raw.length > 200)
        throw new InputError(Inputs.S3Prefix, `is longer than 200 characters`);
    return raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
}
/** `60s`, `2m`, or a bare number of seconds. */
function readIdleTimeout(raw) {
    const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : parseAge(Inputs.S3IdleTimeout, raw);
    if (ms < 1000)
        throw new InputError(Inputs.S3IdleTimeout, `'${raw}' is shorter than a second`);
    return ms;
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/config/nix-key.ts

/** DER prefixes that turn raw Ed25519 bytes into keys node:crypto accepts. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const nix_key_SECRET_KEY_FORMAT = 'expected name:base64 of 64 bytes, as written by nix-store --generate-binary-cache-key';
/** `name:base64(public)` for a Nix secret key, or null when it is not one (seed and public half must agree). */
function nix_key_publicKeyOf(secret) {
    const match = /^([^:\s]+):([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
    if (!match)
        return null;
    const bytes = Buffer.from(match[2], 'base64');
    if (bytes.length !== 64)
        return null;
    try {
        const key = external_node_crypto_.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
        const derived = external_node_crypto_.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
        return derived.equals(bytes.subarray(32)) ? `${match[1]}:${derived.toString('base64')}` : null;
    }
    catch {
        return null;
    }
}

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

;// CONCATENATED MODULE: ./src/util/idle.ts
/** The default of the `idle-timeout` input: how long a transfer may go without a byte. */
const idle_DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** A transfer went `idleMs` without a byte; the message names the connection (host, file, range). */
class IdleTimeoutError extends Error {
    idleMs;
    constructor(idleMs, what) {
        super(`${what}: no byte for ${formatSeconds(idleMs)}`);
        this.idleMs = idleMs;
        this.name = 'IdleTimeoutError';
    }
}
/** `60 s`, `1.5 s`, `0.25 s`. */
function formatSeconds(ms) {
    return `${Number((ms / 1000).toFixed(3))} s`;
}
/**
 * Aborts a transfer that goes `ms` without a byte. Give `signal` to the request (undici's `request`,
 * `fetch`, a stream's `destroy`), call `touch()` on every byte, `hold()` while we ourselves stop
 * reading (backpressure from our own disk or hasher must not count as the server stalling) and
 * `release()` after, and `stop()` once done. `touch` only re-arms one timer, so it is cheap enough to
 * call per network chunk. When it fires, `signal` aborts with an IdleTimeoutError naming `describe()`.
 */
class IdleWatch {
    ms;
    describe;
    controller = new AbortController();
    timer;
    stopped = false;
    constructor(ms, describe) {
        this.ms = ms;
        this.describe = describe;
        this.arm();
    }
    get signal() {
        return this.controller.signal;
    }
    touch() {
        this.timer?.refresh();
    }
    hold() {
        clearTimeout(this.timer);
        this.timer = undefined;
    }
    release() {
        if (this.timer === undefined)
            this.arm();
    }
    stop() {
        this.stopped = true;
        this.hold();
    }
    /** Aborts now with `reason`: how a transfer cancels its sibling connections. */
    abort(reason) {
        this.stop();
        this.controller.abort(reason);
    }
    arm() {
        if (this.stopped || this.controller.signal.aborted)
            return;
        this.timer = setTimeout(() => this.abort(new IdleTimeoutError(this.ms, this.describe())), this.ms);
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
/** Text fit for one Markdown table cell. */
function escapeCell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
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
/**
 * A counter fed with byte increments that writes a progress line through `log` at a sane rate. `total` is
 * undefined for a transfer whose size is not known until it ends (an archive tar is still making).
 */
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
        if (total !== undefined)
            return log(progressText(label, done, total, started));
        const seconds = Math.max((now - started) / 1000, 0.001);
        log(`${label}: ${formatBytes(done)}, ${formatBytes(Math.round(done / seconds))}/s`);
    };
}

;// CONCATENATED MODULE: ./src/fetch/file-sink.ts
/** Written bytes between background flushes to disk, so the final fsync finds little left to write. */
const WRITEBACK_EVERY = 64 * 1024 * 1024;
/** Bytes that may wait for the hashing thread before bodies pause: bounds memory when the CPU is busy. */
const HASH_BACKLOG = 32 * 1024 * 1024;
/**
 * The temp file of one download: positioned writes from any number of connections, each batch
 * handed to the in-order hasher once it is on disk, and a background flush every WRITEBACK_EVERY
 * bytes. A batch is written as the list of network chunks it arrived in (writev), never gathered into
 * one buffer first: that copy, and the fresh memory it needs, cost more than the hashing did.
 */
class FileSink {
    handle;
    hasher;
    onWritten;
    /** Bytes written in this pass, by every connection. */
    written = 0;
    sinceWriteback = 0;
    writeback = Promise.resolve();
    writebackFailure;
    constructor(handle, hasher, onWritten) {
        this.handle = handle;
        this.hasher = hasher;
        this.onWritten = onWritten;
    }
    /** Writes `chunks` (`length` bytes) at `offset`, then gives them to the hasher, which may move them. */
    async write(offset, chunks, length) {
        await writeAll(this.handle, chunks, offset, length);
        this.written += length;
        this.hasher.written(offset, length, chunks);
        this.startWriteback(length);
        this.onWritten();
    }
    /** Resolves when the hashing thread is close enough behind for bodies to go on. */
    ready() {
        return this.hasher.caughtUp(HASH_BACKLOG);
    }
    /** Empties the file for a pass from byte 0. */
    async truncate() {
        await this.writtenBack();
        await this.handle.truncate(0);
        this.written = 0;
        this.sinceWriteback = 0;
    }
    /** Waits for the background flushes; a disk error in one of them fails the download here. */
    async writtenBack() {
        await this.writeback;
        if (this.writebackFailure !== undefined)
            throw this.writebackFailure;
    }
    /** Starts flushing what is written so far while the download goes on; one flush at a time. */
    startWriteback(length) {
        this.sinceWriteback += length;
        if (this.sinceWriteback < WRITEBACK_EVERY)
            return;
        this.sinceWriteback = 0;
        this.writeback = this.writeback
            .then(() => this.handle.datasync())
            .catch((error) => {
            this.writebackFailure ??= error;
        });
    }
}
/** writev until all `length` bytes are down: a write may take only part of them. */
async function writeAll(handle, chunks, position, length) {
    let done = (await handle.writev(chunks, position)).bytesWritten;
    while (done < length)
        done += (await handle.writev(after(chunks, done), position + done)).bytesWritten;
}
/** Views of `chunks` past their first `skip` bytes. */
function after(chunks, skip) {
    const rest = [];
    for (const chunk of chunks) {
        if (skip >= chunk.length)
            skip -= chunk.length;
        else {
            rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
            skip = 0;
        }
    }
    return rest;
}

;// CONCATENATED MODULE: ./src/fetch/headers.ts
/** A header's first value. */
function headerValue(headers, name) {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}

// EXTERNAL MODULE: ./node_modules/undici/index.js
var undici = __webpack_require__(6752);
;// CONCATENATED MODULE: ./src/fetch/retry.ts

/** Statuses worth another try: timeouts, rate limits and server-side outages (huggingface_hub's set). */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const DEFAULT_RETRY = {
    attempts: 6,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
};
function isRetryableStatus(status) {
    return RETRYABLE.has(status);
}
/**
 * The consecutive failures of one request under a policy. Every retrying loop counts with one of
 * these, so all of them give up, back off and obey server hints alike.
 */
class Attempts {
    policy;
    failures = 0;
    constructor(policy) {
        this.policy = policy;
    }
    get tries() {
        return this.failures;
    }
    /** A try that moved bytes: the count starts again. */
    progressed() {
        this.failures = 0;
    }
    /** Counts a failure: the wait before the next try, or undefined once the policy's tries are used up. */
    failed(headers = {}) {
        this.failures++;
        return this.failures >= this.policy.attempts ? undefined : retryDelayMs(this.policy, this.failures, headers);
    }
}
/**
 * How long to wait before try `failures + 1`. A rate-limited Hub says when its window resets
 * (`RateLimit: "resolvers";r=0;t=<s>`, draft-ietf-httpapi-ratelimit-headers); `Retry-After` is the
 * older form. Server hints are capped too, so a hostile header cannot park the job for hours.
 */
function retryDelayMs(policy, failures, headers = {}) {
    const cap = Math.max(policy.maxDelayMs, policy.baseDelayMs);
    const hinted = rateLimitResetSeconds(headers) ?? retryAfterSeconds(headers);
    if (hinted !== undefined)
        return Math.min(hinted * 1000, cap * 8);
    return Math.min(policy.baseDelayMs * 2 ** Math.max(0, failures - 1), cap);
}
/** `t=` of a `RateLimit` header whose remaining quota `r` is 0 (otherwise the limit is not why we failed). */
function rateLimitResetSeconds(headers) {
    const value = headerValue(headers, 'ratelimit');
    if (value === undefined)
        return undefined;
    const remaining = /(?:^|;)\s*r=(\d+)/.exec(value)?.[1];
    const reset = /(?:^|;)\s*t=(\d+)/.exec(value)?.[1];
    if (reset === undefined || (remaining !== undefined && remaining !== '0'))
        return undefined;
    return Number(reset);
}
/** `Retry-After` as seconds, or an HTTP date converted to seconds from now. */
function retryAfterSeconds(headers) {
    const value = headerValue(headers, 'retry-after')?.trim();
    if (!value)
        return undefined;
    if (/^\d+$/.test(value))
        return Number(value);
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

;// CONCATENATED MODULE: ./src/fetch/http.ts




/** A final non-2xx answer, with what the server said (a short body excerpt). */
class HttpStatusError extends Error {
    status;
    url;
    headers;
    body;
    constructor(status, url, headers, body) {
        super(`HTTP ${status} from ${redact(url)}${body ? `: ${body}` : ''}`);
        this.status = status;
        this.url = url;
        this.headers = headers;
        this.body = body;
    }
}
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 10;
/**
 * undici's own header and body timeouts, past our IdleWatch: only a backstop, since they measure
 * coarsely (a 1 s tick), cannot be held while we pause a body ourselves, and say nothing of which
 * transfer stalled.
 */
const BACKSTOP_MS = 30_000;
/** The URL without its query: signed CDN URLs carry signatures that have no place in a log. */
function redact(url) {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
}
/**
 * One request with redirects followed by hand, because the Hub's 3xx carries what its target
 * lacks and because undici would keep nothing from it. Authorization goes only to
 * `credentials.origin`, so a cross-origin hop (the signed CDN URL) travels without it.
 */
async function send(url, credentials, headers = {}, options = {}) {
    let current = url;
    let crossOrigin = false;
    const backstop = (options.idleTimeoutMs ?? idle_DEFAULT_IDLE_TIMEOUT_MS) + BACKSTOP_MS;
    for (let hop = 0;; hop++) {
        const origin = new URL(current).origin;
        const auth = credentials.token !== undefined && origin === credentials.origin ? { authorization: `Bearer ${credentials.token}` } : {};
        const response = await (0,undici/* request */.Em)(current, {
            method: 'GET',
            headers: { ...headers, ...auth },
            signal: options.signal,
            headersTimeout: backstop,
            bodyTimeout: backstop
        });
        options.onResponse?.();
        const location = headerValue(response.headers, 'location');
        if (!REDIRECTS.has(response.statusCode) || location === undefined)
            return { url: current, crossOrigin, response };
        await response.body.dump();
        if (hop === MAX_HOPS)
            throw new Error(`more than ${MAX_HOPS} redirects from ${redact(url)}`);
        const next = new URL(location, current);
        if (next.protocol !== 'https:' && next.protocol !== 'http:')
            throw new Error(`refusing redirect to ${next.protocol} URL from ${redact(current)}`);
        crossOrigin ||= next.origin !== credentials.origin;
        current = next.href;
    }
}
/** Reads a failed response's body (bounded) and turns it into an HttpStatusError. */
async function statusError(reply) {
    const text = await reply.response.body.text().catch(() => '');
    return new HttpStatusError(reply.response.statusCode, reply.url, reply.response.headers, text.slice(0, 500).trim());
}
/**
 * GET a JSON document, retrying network errors, stalls (no byte for `idleTimeoutMs`) and
 * 408/429/5xx per `policy`.
 */
async function getJson(url, credentials, policy, idleTimeoutMs = idle_DEFAULT_IDLE_TIMEOUT_MS) {
    const attempts = new Attempts(policy);
    for (;;) {
        const watch = new IdleWatch(idleTimeoutMs, () => `${new URL(url).host} (GET ${redact(url).slice(new URL(url).origin.length)})`);
        try {
            let reply;
            let text;
            try {
                reply = await send(url, credentials, { accept: 'application/json' }, { signal: watch.signal, onResponse: () => watch.touch(), idleTimeoutMs });
                const status = reply.response.statusCode;
                const delay = isRetryableStatus(status) ? attempts.failed(reply.response.headers) : undefined;
                if (delay !== undefined) {
                    await reply.response.body.dump();
                    await policy.sleep(delay);
                    continue;
                }
                if (status < 200 || status >= 300)
                    throw await statusError(reply);
                text = await readText(reply.response.body, watch);
            }
            catch (error) {
                const delay = error instanceof HttpStatusError ? undefined : attempts.failed();
                if (delay === undefined)
                    throw error;
                await policy.sleep(delay);
                continue;
            }
            return { json: JSON.parse(text), headers: reply.response.headers };
        }
        finally {
            watch.stop();
        }
    }
}
/** A whole body as text, each chunk keeping `watch` alive. */
function readText(body, watch) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        body.on('data', (chunk) => {
            watch.touch();
            chunks.push(chunk);
        });
        body.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        body.on('error', reject);
    });
}

// EXTERNAL MODULE: external "node:async_hooks"
var external_node_async_hooks_ = __webpack_require__(6698);
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
            // The worker's messages arrive in the context that started it; a progress line belongs to the caller's
            // (its kind's log group, see capture.ts).
            this.pending.set(id, { slot, resolve: resolve, reject, onProgress: onProgress && external_node_async_hooks_.AsyncResource.bind(onProgress) });
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
        worker.on('error', (error) => this.failAll(slot, error));
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
/** Bytes a CopyingDigest hands its worker at a time: a few messages per MiB-sized transfer, not one per socket read. */
const COPY_BATCH = 4 * 1024 * 1024;
/**
 * A StreamDigest for bytes the caller still needs after hashing them (they go on to tar or to an upload):
 * they are copied into batches the digest may take, so the caller's buffers are never moved away.
 */
class CopyingDigest {
    digest;
    batch = Buffer.allocUnsafeSlow(COPY_BATCH);
    used = 0;
    constructor(specs) {
        this.digest = new StreamDigest(specs);
    }
    update(chunk) {
        for (let offset = 0; offset < chunk.length;) {
            const taken = Math.min(chunk.length - offset, this.batch.length - this.used);
            this.batch.set(chunk.subarray(offset, offset + taken), this.used);
            offset += taken;
            this.used += taken;
            if (this.used === this.batch.length)
                this.flush();
        }
    }
    async digests() {
        if (this.used > 0)
            this.flush();
        return this.digest.digests();
    }
    close() {
        this.digest.close();
    }
    flush() {
        // A whole batch owns its memory and moves; a partial one is copied once more by StreamDigest.
        this.digest.update(this.used === this.batch.length ? this.batch : this.batch.subarray(0, this.used));
        this.batch = Buffer.allocUnsafeSlow(COPY_BATCH);
        this.used = 0;
    }
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

;// CONCATENATED MODULE: ./src/fetch/digest.ts


/**
 * Hashes a stream of known total size for every digest in `expected`, in one pass on a worker thread
 * (src/util/hash-pool.ts), so the download that feeds it is not slowed down by it.
 */
class MultiHasher {
    expected;
    names;
    specs;
    stream;
    constructor(expected, size) {
        this.expected = expected;
        ;
        ({ names: this.names, specs: this.specs } = hashSpecs(expected, size));
        this.stream = new StreamDigest(this.specs);
    }
    /** Starts over, for a server that ignored our Range and resent the whole body. */
    reset() {
        this.stream.reset();
    }
    /** Takes the chunks: they may be moved to the hashing thread, so the caller must be done with them. */
    update(chunks) {
        this.stream.update(chunks);
    }
    /** Hashes `length` bytes of `file` from `position` next, read back from disk by the hashing thread. */
    updateFromFile(file, position, length) {
        this.stream.updateFromFile(file, position, length);
    }
    /** Bytes handed over and not hashed yet. */
    get backlog() {
        return this.stream.backlog;
    }
    /** Resolves once at most `limit` bytes wait to be hashed. */
    caughtUp(limit) {
        return this.stream.caughtUp(limit);
    }
    /** Releases the hashing thread; call once the download is done with this hasher, however it ended. */
    close() {
        this.stream.close();
    }
    /** At the end of a pass: the first digest that does not match, or undefined if all match. */
    async mismatch() {
        return firstMismatch(this.expected, this.names, await this.stream.digests());
    }
}
/** Hashes a local file on a worker thread: true if size and every digest match. */
async function fileMatches(file, size, expected) {
    return (await fileProblem(file, size, expected)) === null;
}
/** What is wrong with a local file, in words, or null when its size and every digest match. */
async function fileProblem(file, size, expected, onProgress) {
    const info = await (0,promises_.stat)(file).catch(() => undefined);
    if (!info?.isFile())
        return 'is missing or not a file';
    if (info.size !== size)
        return `is ${info.size} bytes, expected ${size}`;
    const { names, specs } = hashSpecs(expected, size);
    const { digests, bytesRead } = await digestFile({ path: file }, size, specs, onProgress);
    if (bytesRead !== size)
        return `is ${bytesRead} bytes, expected ${size}`;
    const bad = firstMismatch(expected, names, digests);
    return bad ? `${bad.name} is ${bad.actual}, expected ${bad.expected}` : null;
}
function hashSpecs(expected, size) {
    const names = [];
    const specs = [];
    if (expected.sha256 !== undefined) {
        names.push('sha256');
        specs.push({ algorithm: 'sha256' });
    }
    if (expected.gitSha1 !== undefined) {
        // The git header needs the final size up front; verifying it separately catches a lie.
        names.push('gitSha1');
        specs.push({ algorithm: 'sha1', prefix: `blob ${size}\0` });
    }
    return { names, specs };
}
function firstMismatch(expected, names, digests) {
    for (const [i, name] of names.entries()) {
        const want = expected[name].toLowerCase();
        if (digests[i] !== want)
            return { name: name === 'gitSha1' ? 'git-sha1' : 'sha256', expected: want, actual: digests[i] };
    }
    return undefined;
}
/** `sha256:<hex>` when known, else `git-sha1:<hex>`: the strongest digest, for reports. */
function describeDigest(expected) {
    return expected.sha256 !== undefined ? `sha256:${expected.sha256}` : `git-sha1:${expected.gitSha1 ?? ''}`;
}

;// CONCATENATED MODULE: ./src/fetch/in-order-hasher.ts

/**
 * Out-of-order bytes kept in memory until the hash reaches them; past this, they are read back from
 * the temp file instead. With 16 MiB ranges over 4 connections the ranges ahead of the slowest one
 * usually fit, so the common case hashes the received buffers themselves and reads nothing back.
 */
const DEFAULT_REORDER_MEMORY = 64 * 1024 * 1024;
/**
 * Feeds a hash the file's bytes in file order while they are written in any order (ranges that
 * complete out of order). A write at the hashed frontier is hashed at once from its own buffers
 * (moved to the hashing thread, not copied); a write ahead of it waits, in memory up to
 * `reorderMemory` and on disk beyond, until the frontier reaches it. Memory stays bounded however far
 * one slow connection lags, and no fast connection is held back for the sake of the hash.
 */
class InOrderHasher {
    file;
    reorderMemory;
    hasher;
    hashedUpTo = 0;
    /** Written ranges past the frontier, by offset. */
    ahead = new Map();
    heldBytes = 0;
    constructor(digest, size, 
    /** The temp file, for bytes read back. */
    file, reorderMemory = DEFAULT_REORDER_MEMORY) {
        this.file = file;
        this.reorderMemory = reorderMemory;
        this.hasher = new MultiHasher(digest, size);
    }
    /** Bytes from 0 that are written and handed to the hash: where a single stream can resume. */
    get frontier() {
        return this.hashedUpTo;
    }
    /** Bytes [offset, offset + length) are on disk in `chunks`, which are taken (they may be moved). */
    written(offset, length, chunks) {
        if (offset !== this.hashedUpTo) {
            this.holdAhead(offset, length, chunks);
            return;
        }
        this.hasher.update(chunks);
        this.hashedUpTo += length;
        this.drainAhead();
    }
    /** Resolves once at most `limit` bytes wait for the hashing thread. */
    caughtUp(limit) {
        return this.hasher.caughtUp(limit);
    }
    /** Forgets what was written past the frontier: a single stream will write those bytes again. */
    discardAhead() {
        this.ahead.clear();
        this.heldBytes = 0;
    }
    /** Back to byte 0. */
    reset() {
        this.discardAhead();
        this.hashedUpTo = 0;
        this.hasher.reset();
    }
    /** Once every one of `size` bytes is written: the first digest that does not match, if any. */
    async mismatch(size) {
        if (this.hashedUpTo !== size || this.ahead.size > 0)
            throw new Error(`hashed ${this.hashedUpTo} contiguous bytes of ${size}: a range is missing`);
        return this.hasher.mismatch();
    }
    close() {
        this.hasher.close();
    }
    holdAhead(offset, length, chunks) {
        const keep = this.heldBytes + length <= this.reorderMemory;
        if (keep)
            this.heldBytes += length;
        this.ahead.set(offset, { length, chunks: keep ? chunks : null });
    }
    drainAhead() {
        for (let next = this.ahead.get(this.hashedUpTo); next !== undefined; next = this.ahead.get(this.hashedUpTo)) {
            this.ahead.delete(this.hashedUpTo);
            if (next.chunks) {
                this.heldBytes -= next.length;
                this.hasher.update(next.chunks);
            }
            else {
                this.hasher.updateFromFile(this.file, this.hashedUpTo, next.length);
            }
            this.hashedUpTo += next.length;
        }
    }
}

;// CONCATENATED MODULE: ./src/fetch/receive.ts
/** Bytes gathered per write (and per message to the hashing thread). */
const WRITE_BATCH = 4 * 1024 * 1024;
/** The bytes arrived but are not the bytes promised: never retried past one fresh attempt. */
class IntegrityError extends Error {
}
/**
 * Writes one response body into the file from `offset`. Resolves when the body ended or broke (with
 * the network error, to be retried from `next`); rejects for anything else (too many bytes, a full
 * disk). Chunks are gathered into batches of WRITE_BATCH bytes; one batch is written while the next
 * arrives, and the stream pauses only when both are full or the hasher is far behind. `data` events
 * rather than an async iterator: a promise per small network chunk costs a third of the throughput.
 * What arrived before a network error is written before the error is returned, so a resume starts
 * exactly after it.
 */
function receiveBody(body, options) {
    const { sink, watch } = options;
    let position = options.offset;
    const pending = [];
    let pendingBytes = 0;
    let writing = Promise.resolve();
    let settled = false;
    return new Promise((resolve, reject) => {
        const giveUp = (error) => {
            if (settled)
                return;
            settled = true;
            body.destroy();
            void writing.catch(() => undefined).then(() => reject(error));
        };
        const flush = () => {
            if (pendingBytes === 0)
                return;
            const chunks = pending.splice(0);
            const at = position;
            const length = pendingBytes;
            position += length;
            pendingBytes = 0;
            const previous = writing;
            writing = previous.then(() => sink.write(at, chunks, length));
            writing.catch(giveUp);
            // Our own backpressure: not the server's stall, so the idle clock stops while we wait.
            body.pause();
            watch.hold();
            void previous
                .then(() => sink.ready())
                .then(() => {
                if (settled)
                    return;
                watch.release();
                body.resume();
            }, giveUp);
        };
        const finish = (networkError) => {
            if (settled)
                return;
            flush();
            void writing.then(() => {
                if (settled)
                    return;
                settled = true;
                resolve({ next: position, error: networkError });
            }, giveUp);
        };
        body.on('data', (chunk) => {
            if (settled)
                return;
            watch.touch();
            options.onReceived(chunk.length);
            if (position + pendingBytes + chunk.length > options.limit) {
                giveUp(new IntegrityError(`${options.describe()}: the server sent more than the ${options.limit - options.offset} bytes asked for`));
                return;
            }
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= WRITE_BATCH)
                flush();
        });
        body.on('end', () => finish());
        body.on('error', error => finish(error));
    });
}

;// CONCATENATED MODULE: ./src/fetch/verified-download.ts













const verified_download_DEFAULT_CONNECTIONS = 4;
const DEFAULT_PARALLEL_THRESHOLD = 64 * 1024 * 1024;
const DEFAULT_RANGE_SIZE = 16 * 1024 * 1024;
/** A signed URL may expire while we retry; this many fresh resolutions per download. */
const MAX_RERESOLVES = 3;
/** One more full attempt after a digest mismatch, in case a proxy or edge served bad bytes once. */
const INTEGRITY_RETRIES = 1;
/**
 * Download `url` to `destination`, hashing while writing, resuming and retrying as needed, then
 * verify, fsync and rename. On any failure the temp file is removed and `destination` untouched.
 */
async function downloadVerified(opts) {
    await (0,promises_.mkdir)(external_node_path_.dirname(opts.destination), { recursive: true });
    const temp = opts.tempPath ?? `${opts.destination}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.incomplete`;
    const handle = await (0,promises_.open)(temp, 'wx', 0o644);
    let handleOpen = true;
    let job;
    try {
        job = new Transfer(opts, handle, temp);
        for (let integrityRetries = INTEGRITY_RETRIES;; integrityRetries--) {
            await job.fill();
            const bad = await job.mismatch();
            if (!bad)
                break;
            const message = `${job.label}: ${bad.name} mismatch, expected ${bad.expected}, got ${bad.actual}`;
            if (integrityRetries === 0)
                throw new IntegrityError(message);
            await job.restart();
        }
        await job.sink.writtenBack();
        await job.checkFileSize();
        await handle.sync();
        handleOpen = false;
        await handle.close();
        await (0,promises_.rename)(temp, opts.destination);
        await syncPath(external_node_path_.dirname(opts.destination));
        return job.outcome;
    }
    catch (error) {
        if (handleOpen) {
            await job?.sink.writtenBack().catch(() => undefined);
            await handle.close().catch(() => undefined);
        }
        await (0,promises_.rm)(temp, { force: true });
        throw error;
    }
    finally {
        job?.hasher.close();
    }
}
/** Thrown inside the parallel path when a server answers a ranged request with the whole file, or refuses ranges. */
class RangeIgnored extends Error {
}
/** The state of one download across its attempts and connections. */
class Transfer {
    opts;
    handle;
    hasher;
    sink;
    outcome = { bytesTransferred: 0, resumes: 0, restarts: 0, ranges: 0 };
    label;
    size;
    /** Where bytes come from now: the URL that last answered, so a resume or a range skips the Hub's redirect. */
    url;
    /** Bumped on each re-resolution, so connections that all hit the same expired URL resolve it once. */
    urlGeneration = 0;
    reResolves = 0;
    /** The span whose next request fetches a fresh URL from the origin; the others wait for it. */
    resolving;
    policy;
    idleMs;
    /** Live requests, so a failed range can cut its siblings at once. */
    watches = new Set();
    cancelled;
    wakeOnCancel = [];
    lastProgress = 0;
    lastReported = -1;
    constructor(opts, handle, temp) {
        this.opts = opts;
        this.handle = handle;
        if (opts.size === undefined && opts.digest.gitSha1 !== undefined)
            throw new Error('a git blob id can only be checked with a known size');
        this.size = opts.size;
        this.url = opts.url;
        this.label = opts.label ?? redact(opts.url);
        this.policy = opts.retry ?? DEFAULT_RETRY;
        this.idleMs = opts.idleTimeoutMs ?? idle_DEFAULT_IDLE_TIMEOUT_MS;
        this.hasher = new InOrderHasher(opts.digest, opts.size ?? 0, temp, opts.reorderMemory);
        this.sink = new FileSink(handle, this.hasher, () => this.report(false));
    }
    /** Fetches every byte once, in ranges when the file is large enough and the server allows. */
    async fill() {
        if (this.size === 0)
            return this.report(true);
        const rest = this.wantsRanges() ? await this.fillInRanges() : undefined;
        if (rest !== 'complete')
            await this.fetchSpan({ next: this.hasher.frontier, last: this.lastByte() }, 'stream', rest);
        this.report(true);
    }
    async mismatch() {
        return this.hasher.mismatch(this.size ?? 0);
    }
    /** Back to byte 0 and to the original URL, so the next attempt is resolved afresh. */
    async restart() {
        await this.sink.truncate();
        this.hasher.reset();
        this.url = this.opts.url;
        this.urlGeneration++;
        this.cancelled = undefined;
        this.outcome.restarts++;
    }
    /** The hash saw `size` bytes in order; the file must hold exactly those. */
    async checkFileSize() {
        const { size } = await this.handle.stat();
        if (size !== this.size)
            throw new Error(`${this.label}: the temp file holds ${size} bytes, expected ${this.size}`);
    }
    wantsRanges() {
        const connections = this.opts.connections ?? verified_download_DEFAULT_CONNECTIONS;
        return connections > 1 && (this.size === undefined || this.size >= (this.opts.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD));
    }
    lastByte() {
        return this.size === undefined ? undefined : this.size - 1;
    }
    // ---- the parallel path ------------------------------------------------------------------------
    /**
     * The first range is asked for alone: its answer tells whether the server honours Range (206) and,
     * when we did not know it, how large the file is. Then the remaining ranges are shared by
     * `connections` loops, each taking the next range when it finished one. Returns 'complete', or the
     * answer to continue as a single stream with: the first request's 200 (the server ignores Range),
     * or undefined after a later range got a 200, or 403s even from fresh URLs (continue from the
     * hashed frontier).
     */
    async fillInRanges() {
        const rangeSize = this.opts.rangeSize ?? DEFAULT_RANGE_SIZE;
        const first = { next: 0, last: Math.min(rangeSize, this.size ?? rangeSize) - 1 };
        const answer = await this.firstAnswer(first).catch((error) => {
            if (error instanceof RangeIgnored)
                return undefined;
            throw error;
        });
        if (answer === undefined)
            return this.fallBackToOneStream();
        if (answer.reply.response.statusCode === 200)
            return answer;
        const size = this.size;
        first.last = Math.min(first.last, size - 1);
        const queue = planRanges(first.last + 1, size, rangeSize);
        const connections = size >= (this.opts.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD) ? (this.opts.connections ?? verified_download_DEFAULT_CONNECTIONS) : 1;
        const connection = async (start) => {
            if (start)
                await this.fetchSpan(start.span, 'ranges', start.answer);
            for (let span = queue.shift(); span !== undefined; span = queue.shift())
                await this.fetchSpan(span, 'ranges');
        };
        const loops = [
            connection({ span: first, answer }),
            ...Array.from({ length: Math.min(connections, queue.length + 1) - 1 }, () => connection())
        ];
        const failure = await this.firstFailure(loops);
        if (failure === undefined)
            return 'complete';
        if (!(failure instanceof RangeIgnored))
            throw failure;
        return this.fallBackToOneStream();
    }
    /**
     * Everything up to the hashed frontier is written and hashed; a single stream redoes the rest,
     * from a fresh URL and with its own re-resolutions.
     */
    fallBackToOneStream() {
        this.cancelled = undefined;
        this.url = this.opts.url;
        this.urlGeneration++;
        this.reResolves = 0;
        this.hasher.discardAhead();
        this.sink.written = this.hasher.frontier;
        return undefined;
    }
    /** The first range's answer, retried like any request, its watch still running for the body. */
    async firstAnswer(span) {
        const attempts = new Attempts(this.policy);
        for (;;) {
            const outcome = await this.ask(span, 'ranges');
            if (outcome.kind === 'body')
                return outcome;
            await this.setback(attempts, outcome);
        }
    }
    /**
     * Waits for every connection loop; on the first failure the others are cut at once (their bytes so
     * far are written before they stop, so nothing writes after we return). The first error is the one
     * reported, not the cancellations it caused.
     */
    async firstFailure(loops) {
        let first;
        await Promise.all(loops.map(loop => loop.catch((error) => {
            first ??= error;
            this.cancel(error);
        })));
        return first;
    }
    cancel(reason) {
        this.cancelled ??= reason;
        for (const watch of this.watches)
            watch.abort(new Error('cancelled: another range failed'));
        for (const wake of this.wakeOnCancel.splice(0))
            wake();
        this.resolving?.finish();
        this.resolving = undefined;
    }
    // ---- one span, retried on its own ---------------------------------------------------------------
    /** Fetches `span` to its end, resuming after breaks and retrying per the policy on its own. */
    async fetchSpan(span, mode, first) {
        const attempts = new Attempts(this.policy);
        while (span.last === undefined || span.next <= span.last) {
            if (this.cancelled)
                throw this.cancelled;
            const outcome = first ?? (await this.ask(span, mode));
            first = undefined;
            if (outcome.kind === 'again')
                continue;
            if (outcome.kind === 'failed') {
                await this.setback(attempts, outcome);
                continue;
            }
            try {
                const before = span.next;
                const broke = await this.take(span, mode, outcome);
                if (span.next > before)
                    attempts.progressed();
                if (broke)
                    await this.setback(attempts, { kind: 'failed', error: broke });
            }
            finally {
                this.forget(outcome.watch);
            }
        }
    }
    /** Writes one answer's body into the span; returns why it stopped short, if the network is to blame. */
    async take(span, mode, answer) {
        if (mode === 'ranges' && answer.reply.response.statusCode !== 206) {
            // A 200 to a ranged request: this server (or this edge of it) sends whole files only.
            answer.watch.abort(new Error('range ignored'));
            await answer.reply.response.body.dump().catch(() => undefined);
            throw new RangeIgnored(`${this.label}: ${new URL(answer.reply.url).host} ignored Range`);
        }
        if (answer.start !== span.next) {
            // A 200 to a single stream's resume: the whole file again, from byte 0.
            await this.startOver();
            span.next = 0;
        }
        else if (mode === 'ranges') {
            this.outcome.ranges++;
        }
        else if (span.next > 0) {
            this.outcome.resumes++;
        }
        span.last ??= this.lastByte();
        const received = await receiveBody(answer.reply.response.body, {
            sink: this.sink,
            offset: span.next,
            limit: answer.end + 1,
            watch: answer.watch,
            onReceived: bytes => (this.outcome.bytesTransferred += bytes),
            describe: () => this.describe(answer.reply.url, span)
        });
        span.next = received.next;
        if (received.error)
            return this.streamError(received.error, answer.reply.url, span);
        if (span.next <= answer.end)
            return new Error(`${this.describe(answer.reply.url, span)}: body ended at byte ${span.next}, before ${answer.end + 1}`);
        return undefined;
    }
    /** A single stream's server ignored Range: empty the file and hash from byte 0. */
    async startOver() {
        await this.sink.truncate();
        this.hasher.reset();
        this.outcome.restarts++;
    }
    /**
     * One request for the span's bytes: a body answer, or a setback to retry. Anything that no retry
     * can fix (a 404, a wrong Content-Range, a size other than promised) throws.
     */
    async ask(span, mode) {
        if (this.resolving && this.resolving.span !== span)
            await this.resolving.done;
        if (this.cancelled)
            return { kind: 'failed', error: this.cancelled };
        const resolving = this.resolving?.span === span ? this.resolving : undefined;
        try {
            return await this.askOnce(span, mode);
        }
        finally {
            // This request went to the origin for everyone: whatever it came to, the others go on.
            if (resolving) {
                resolving.finish();
                if (this.resolving === resolving)
                    this.resolving = undefined;
            }
        }
    }
    async askOnce(span, mode) {
        const url = this.url;
        const generation = this.urlGeneration;
        const watch = this.watch(() => this.describe(url, span));
        const range = mode === 'ranges' ? `bytes=${span.next}-${span.last ?? ''}` : span.next > 0 ? `bytes=${span.next}-` : undefined;
        let reply;
        try {
            reply = await send(url, this.opts.credentials, 
            // Decoded bytes would not match offsets for Range, nor Content-Length for the size check.
            { 'accept-encoding': 'identity', ...(range ? { range } : {}) }, { signal: watch.signal, onResponse: () => watch.touch(), idleTimeoutMs: this.idleMs });
        }
        catch (error) {
            this.forget(watch);
            return { kind: 'failed', error: this.streamError(error, url, span) };
        }
        try {
            const answer = await this.classify(reply, span, mode, generation, watch);
            if (answer.kind !== 'body')
                this.forget(watch);
            return answer;
        }
        catch (error) {
            this.forget(watch);
            throw error;
        }
    }
    async classify(reply, span, mode, generation, watch) {
        const { statusCode: status, headers } = reply.response;
        const elsewhere = new URL(reply.url).origin !== this.opts.credentials.origin;
        if (status === 403 && elsewhere) {
            // A signed CDN URL that expired: ask the origin for a fresh one.
            if (this.reResolve(generation, span)) {
                await reply.response.body.dump();
                return { kind: 'again' };
            }
            // Fresh URLs refused too: some CDNs refuse several connections to one file. One stream then.
            if (mode === 'ranges') {
                await reply.response.body.dump();
                throw new RangeIgnored(`${this.label}: ${new URL(reply.url).host} refused ranged requests with HTTP 403`);
            }
        }
        if (isRetryableStatus(status))
            return { kind: 'failed', error: await statusError(reply), headers };
        if (status !== 200 && status !== 206)
            throw await statusError(reply);
        const encoding = headerValue(headers, 'content-encoding');
        if (encoding !== undefined && encoding !== 'identity') {
            await reply.response.body.dump();
            throw new Error(`${redact(reply.url)} answered with Content-Encoding ${encoding} although identity was asked for`);
        }
        const { start, end } = status === 206 ? await this.partialExtent(reply, span) : await this.fullExtent(reply);
        if (generation === this.urlGeneration)
            this.url = reply.url;
        return { kind: 'body', reply, start, end, watch };
    }
    /** Which bytes a 206 carries, checked against what was asked; learns the size if it was unknown. */
    async partialExtent(reply, span) {
        const contentRange = headerValue(reply.response.headers, 'content-range') ?? '';
        const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
        const [start, end] = [Number(match?.[1]), Number(match?.[2])];
        const total = match?.[3] === '*' ? undefined : Number(match?.[3]);
        if (!match || start !== span.next || (span.last !== undefined && end > span.last)) {
            await reply.response.body.dump();
            throw new Error(`${redact(reply.url)} answered Range ${span.next}-${span.last ?? ''} with Content-Range ${contentRange}`);
        }
        await this.learnSize(reply, total);
        return { start, end: Math.min(end, this.size - 1) };
    }
    /** A 200 carries the whole file: its Content-Length is the size. */
    async fullExtent(reply) {
        const length = Number(headerValue(reply.response.headers, 'content-length'));
        await this.learnSize(reply, Number.isSafeInteger(length) && length >= 0 ? length : undefined);
        return { start: 0, end: this.size - 1 };
    }
    /** The first answer says how large the file is; without that nothing can be verified. A later one must agree. */
    async learnSize(reply, total) {
        if (this.size === undefined && total === undefined) {
            await reply.response.body.dump();
            throw new Error(`${redact(reply.url)} did not say how large the file is (no Content-Length on a full answer)`);
        }
        if (this.size !== undefined && total !== undefined && total !== this.size) {
            await reply.response.body.dump();
            throw new IntegrityError(`${this.label}: ${redact(reply.url)} says the file is ${total} bytes, expected ${this.size}`);
        }
        this.size ??= total;
    }
    /**
     * True when a 403 from the CDN should send us back to the origin for a fresh signed URL. This
     * span's next request fetches it; the other connections wait for that one answer instead of each
     * asking the origin (the Hub's "resolvers" rate limit is per IP, shared by the whole runner).
     */
    reResolve(generation, span) {
        // Another connection already re-resolved since this request left: just use the new URL.
        if (generation !== this.urlGeneration)
            return true;
        if (this.reResolves >= MAX_RERESOLVES)
            return false;
        this.reResolves++;
        this.urlGeneration++;
        this.url = this.opts.url;
        let finish = () => undefined;
        const done = new Promise(resolve => (finish = resolve));
        this.resolving = { span, done, finish };
        return true;
    }
    /** Counts a failure of one span: past the policy's attempts it gives up with that span's error. */
    async setback(attempts, setback) {
        if (setback.kind === 'again')
            return;
        if (this.cancelled)
            throw this.cancelled;
        const delay = attempts.failed(setback.headers);
        if (delay === undefined)
            throw giveUp(setback.error, attempts.tries);
        await this.sleepUnlessCancelled(delay);
    }
    async sleepUnlessCancelled(ms) {
        let wake = () => undefined;
        const cancelled = new Promise(resolve => (wake = resolve));
        this.wakeOnCancel.push(wake);
        try {
            await Promise.race([this.policy.sleep(ms), cancelled]);
        }
        finally {
            this.wakeOnCancel = this.wakeOnCancel.filter(w => w !== wake);
        }
        if (this.cancelled)
            throw this.cancelled;
    }
    watch(describe) {
        const watch = new IdleWatch(this.idleMs, describe);
        this.watches.add(watch);
        return watch;
    }
    forget(watch) {
        watch.stop();
        this.watches.delete(watch);
    }
    /** A network error with the connection it happened on; a stall already names it. */
    streamError(error, url, span) {
        if (this.cancelled)
            return this.cancelled;
        if (error.name === 'IdleTimeoutError')
            return error;
        return new Error(`${this.describe(url, span)}: ${error.message}`, { cause: error });
    }
    /** `org/name: model.safetensors: 127.0.0.1:8080, bytes 16777216-33554431 of 1073741824` */
    describe(url, span) {
        const of = this.size === undefined ? '' : ` of ${this.size}`;
        return `${this.label}: ${new URL(url).host}, bytes ${span.next}-${span.last ?? ''}${of}`;
    }
    report(final) {
        const now = Date.now();
        if (!this.opts.onProgress || (!final && now - this.lastProgress < (this.opts.progressIntervalMs ?? progressIntervalMs())))
            return;
        // The final line only when the last one did not already say it all.
        if (final && this.lastReported === this.sink.written)
            return;
        this.lastProgress = now;
        this.lastReported = this.sink.written;
        this.opts.onProgress(this.sink.written, this.size ?? 0);
    }
}
/** Ranges of `rangeSize` bytes covering [from, size). */
function planRanges(from, size, rangeSize) {
    const spans = [];
    for (let next = from; next < size; next += rangeSize)
        spans.push({ next, last: Math.min(next + rangeSize, size) - 1 });
    return spans;
}
/** The error a span gives up with: a status error as is (the Hub explains its own), else saying how often we tried. */
function giveUp(error, tries) {
    if (error instanceof HttpStatusError)
        return error;
    return new Error(`${error.message}; gave up after ${tries} tries`, { cause: error });
}

;// CONCATENATED MODULE: ./src/config/transfer.ts




/** More connections than this to one host for one file looks like abuse to a CDN, and gains nothing. */
const MAX_CONNECTIONS = 16;
function transfer_readTransferSettings() {
    return { connections: readDownloadConnections(), idleTimeoutMs: readIdleTimeoutMs() };
}
/** `download-connections`: 1 to MAX_CONNECTIONS; 1 downloads every file as one stream. */
function readDownloadConnections() {
    const raw = getString(Inputs.DownloadConnections, String(DEFAULT_CONNECTIONS));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < 1 || value > MAX_CONNECTIONS) {
        throw new InputError(Inputs.DownloadConnections, `'${raw}' is not a whole number from 1 to ${MAX_CONNECTIONS}; 1 downloads each file as one stream`);
    }
    return value;
}
const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000 };
/** `idle-timeout`: seconds (`60`, `90s`), minutes (`2m`) or milliseconds (`500ms`), above 0. */
function readIdleTimeoutMs() {
    const raw = getString(Inputs.IdleTimeout, `${DEFAULT_IDLE_TIMEOUT_MS / 1000}s`);
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/i.exec(raw);
    const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]) : NaN;
    if (!(ms > 0))
        throw new InputError(Inputs.IdleTimeout, `'${raw}' is not a duration above 0; write it like 60, 90s or 2m`);
    return ms;
}

;// CONCATENATED MODULE: ./src/config/config.ts











const config_PRESET_KINDS = (/* unused pure expression or super */ null && (['pip', 'buildah', 'huggingface', 'podman', 'nix', 'downloads']));
const BACKEND_CHOICES = (/* unused pure expression or super */ null && (['auto', 'github', 'local', 's3']));
const SAVE_CHOICES = (/* unused pure expression or super */ null && (['on-success', 'always', 'never']));
const LOCAL_MODES = (/* unused pure expression or super */ null && (['archive', 'in-place']));
const ISOLATION_CHOICES = (/* unused pure expression or super */ null && (['oci', 'chroot', 'rootless']));
/** auto: `registry` where podman has --cache-from/--cache-to (≥ 4.2), else `images`. */
const PODMAN_CACHE_MODES = (/* unused pure expression or super */ null && (['auto', 'registry', 'images']));
const ON_BUDGET_CHOICES = (/* unused pure expression or super */ null && (['warn', 'fail']));
const MAX_KEY_LENGTH = 512;
const DEFAULT_PIP_DEPENDENCY_FILES = (/* unused pure expression or super */ null && ([
    '**/requirements*.txt',
    '**/pyproject.toml',
    '**/poetry.lock',
    '**/Pipfile.lock',
    '**/uv.lock',
    '**/pdm.lock',
    '!**/node_modules/**',
    '!**/.venv/**'
]));
function expandHome(p) {
    return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}
/** Where qdc keeps directories of its own by default. */
function qdcHome() {
    const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    return path.join(cacheHome, 'qdc-action');
}
function readConfig() {
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const paths = readCustomCache(workspace);
    const hf = readHubSettings(workspace);
    const downloads = readDownloadSettings(workspace);
    const podman = readPodmanSettings(workspace);
    const backend = getChoice(Inputs.Backend, BACKEND_CHOICES, 'auto');
    return {
        kinds: readKinds(paths !== null, hf.models.length > 0, downloads.specs.length > 0, podman.composeFile !== null),
        keyPrefix: readKeyPart(Inputs.KeyPrefix, getString(Inputs.KeyPrefix, 'qdc')),
        workspace,
        backend,
        save: getChoice(Inputs.Save, SAVE_CHOICES, 'on-success'),
        readOnly: getBool(Inputs.ReadOnly, false),
        saveOnUntrustedTriggers: getBool(Inputs.SaveOnUntrustedTriggers, false),
        summary: getBool(Inputs.Summary, true),
        reportPath: absolute(getString(Inputs.ReportPath, path.join(runnerTemp(), 'qdc-report.json')), workspace),
        report: readReportSettings(),
        local: readLocalSettings(workspace),
        s3: backend === 's3' ? readS3Settings() : null,
        paths,
        pip: { dependencyFiles: readPipDependencyFiles() },
        hf,
        downloads,
        nix: readNixSettings(workspace),
        podman,
        transfer: readTransferSettings()
    };
}
function readReportSettings() {
    const max = getStringOrNull(Inputs.MaxDownloaded);
    return {
        maxDownloaded: max === null ? null : parseSize(Inputs.MaxDownloaded, max),
        maxDownloadedPerKind: readPerKindBudgets(),
        onBudget: getChoice(Inputs.OnBudget, ON_BUDGET_CHOICES, 'warn'),
        history: getBool(Inputs.History, true),
        prComment: getBool(Inputs.PrComment, false),
        baselineRuns: parseCount(Inputs.BaselineRuns, getString(Inputs.BaselineRuns, '5')),
        assumedBandwidth: parseSize(Inputs.AssumedBandwidth, getString(Inputs.AssumedBandwidth, '100M'))
    };
}
/** `pip=200M, huggingface=0`: a size per kind the job caches. */
function readPerKindBudgets() {
    const budgets = {};
    for (const item of getList(Inputs.MaxDownloadedPerKind, 'lines-and-commas')) {
        const match = /^([a-z]+)\s*=\s*(\S+)$/i.exec(item);
        if (!match)
            throw new InputError(Inputs.MaxDownloadedPerKind, `'${item}' should be kind=size, like pip=200M`);
        const kind = match[1].toLowerCase();
        if (![...config_PRESET_KINDS, 'custom'].includes(kind)) {
            throw new InputError(Inputs.MaxDownloadedPerKind, `'${kind}' is not a cache kind; use any of ${config_PRESET_KINDS.join(', ')}, custom`);
        }
        budgets[kind] = parseSize(Inputs.MaxDownloadedPerKind, match[2]);
    }
    return budgets;
}
function parseCount(input, raw) {
    if (!/^[1-9]\d*$/.test(raw))
        throw new InputError(input, `'${raw}' is not a whole number of runs (1 or more)`);
    return Number(raw);
}
/** The local store's settings; also what `qdc prune` and `qdc stats` read from a config file. */
function readLocalSettings(workspace) {
    return {
        dir: absolute(getString(Inputs.LocalDir, path.join(qdcHome(), 'store')), workspace),
        maxAgeMs: parseAge(Inputs.LocalMaxAge, getString(Inputs.LocalMaxAge, '30d')),
        maxBytes: parseSize(Inputs.LocalMaxSize, getString(Inputs.LocalMaxSize, '20G')),
        mode: getChoice(Inputs.LocalMode, LOCAL_MODES, 'archive')
    };
}
function readHubSettings(workspace) {
    return {
        models: parseModels(getList(Inputs.Models, 'lines'), workspace),
        endpoint: hubEndpoint(Inputs.HfEndpoint, getStringOrNull(Inputs.HfEndpoint)),
        offline: getBool(Inputs.HfOffline, false)
    };
}
function readDownloadSettings(workspace) {
    return {
        dir: absolute(getString(Inputs.DownloadsDir, path.join(qdcHome(), 'downloads')), workspace),
        specs: parseDownloads(getList(Inputs.Downloads, 'lines'), workspace)
    };
}
function readNixSettings(workspace) {
    return {
        dir: absolute(getString(Inputs.NixDir, path.join(qdcHome(), 'nix-cache')), workspace),
        signingKey: readSigningKeySource(workspace),
        publicKeys: getList(Inputs.NixPublicKeys, 'lines-and-commas'),
        trusted: getBool(Inputs.NixTrusted, false),
        maxBytes: parseSize(Inputs.NixMaxSize, getString(Inputs.NixMaxSize, '5G')),
        maxAgeMs: parseAge(Inputs.NixMaxAge, getString(Inputs.NixMaxAge, '30d'))
    };
}
/**
 * The `nix-signing-key` input: the key itself (typically a secret; checked here, kept as its public half
 * only) or a file holding it (read and checked by the nix kind). A malformed key fails with one line that
 * never repeats the value.
 */
function readSigningKeySource(workspace) {
    const raw = getStringOrNull(Inputs.NixSigningKey);
    if (raw === null)
        return null;
    if (!isInlineKey(raw))
        return { file: path.resolve(workspace, raw) };
    const publicKey = publicKeyOf(raw);
    if (!publicKey)
        throw new InputError(Inputs.NixSigningKey, `is not a Nix secret key (${SECRET_KEY_FORMAT})`);
    return { inline: { publicKey } };
}
/** A key is `name:base64`; a file name has neither a colon nor a line break. */
function isInlineKey(raw) {
    return raw.includes(':') || raw.includes('\n');
}
function readPodmanSettings(workspace) {
    const composeFile = getStringOrNull(Inputs.ComposeFile);
    return {
        dir: absolute(getString(Inputs.PodmanDir, path.join(qdcHome(), 'podman')), workspace),
        composeFile: composeFile === null ? null : absolute(composeFile, workspace),
        composeServices: getList(Inputs.ComposeServices, 'lines-and-commas'),
        buildArgs: getString(Inputs.PodmanBuildArgs, ''),
        isolation: getStringOrNull(Inputs.Isolation) === null ? null : getChoice(Inputs.Isolation, ISOLATION_CHOICES, 'oci'),
        cacheMode: getChoice(Inputs.PodmanCacheMode, PODMAN_CACHE_MODES, 'auto')
    };
}
function readKinds(hasCustomPaths, hasModels, hasDownloads, hasComposeBuild) {
    const names = getList(Inputs.Caches, 'lines-and-commas').map(name => name.toLowerCase());
    for (const name of names) {
        if (!config_PRESET_KINDS.includes(name)) {
            throw new InputError(Inputs.Caches, `unknown cache kind '${name}'; use any of ${config_PRESET_KINDS.join(', ')} (own directories go in '${Inputs.Paths}')`);
        }
    }
    // Models land in the hub cache and downloads in the download cache, so asking for them caches those too.
    // A compose build is cached by the podman kind's layer cache.
    const implied = [
        ...(hasModels ? ['huggingface'] : []),
        ...(hasDownloads ? ['downloads'] : []),
        ...(hasComposeBuild ? ['podman'] : [])
    ];
    const kinds = [...new Set([...names, ...implied])];
    if (hasCustomPaths)
        kinds.push('custom');
    if (kinds.length === 0) {
        throw new InputError(Inputs.Caches, `nothing to cache; name at least one kind (e.g. 'pip') or set '${Inputs.Paths}' and '${Inputs.Key}'`);
    }
    return kinds;
}
function readCustomCache(workspace) {
    const paths = getList(Inputs.Paths, 'lines');
    const key = getStringOrNull(Inputs.Key);
    const restoreKeys = getList(Inputs.RestoreKeys, 'lines');
    if (paths.length === 0) {
        if (key !== null)
            throw new InputError(Inputs.Key, `only used with '${Inputs.Paths}'; set the paths to cache or remove the key`);
        if (restoreKeys.length > 0)
            throw new InputError(Inputs.RestoreKeys, `only used with '${Inputs.Paths}' and '${Inputs.Key}'`);
        return null;
    }
    if (key === null)
        throw new InputError(Inputs.Key, `is empty; a key is required when '${Inputs.Paths}' is set`);
    const pattern = paths.find(p => /[*?[\]!]/.test(p));
    if (pattern)
        throw new InputError(Inputs.Paths, `'${pattern}' is a pattern; list directories or files, one per line`);
    return {
        paths: paths.map(p => spellPath(p, workspace)),
        key: readKeyPart(Inputs.Key, key),
        restoreKeys: restoreKeys.map(k => readKeyPart(Inputs.RestoreKeys, k))
    };
}
function readPipDependencyFiles() {
    const globs = getList(Inputs.PipDependencyFiles, 'lines');
    return globs.length > 0 ? globs : DEFAULT_PIP_DEPENDENCY_FILES;
}
/** Keys share GitHub's rules (no commas, 512 characters) and may not contain our revision separator. */
function readKeyPart(input, value) {
    if (value.includes(','))
        throw new InputError(input, `'${value}' contains a comma, which cache keys cannot hold`);
    if (value.includes(REVISION_SEPARATOR))
        throw new InputError(input, `'${value}' contains '${REVISION_SEPARATOR}', which qdc reserves for revisions`);
    if (value.length > MAX_KEY_LENGTH - 64)
        throw new InputError(input, `'${value.slice(0, 40)}…' is longer than ${MAX_KEY_LENGTH - 64} characters`);
    return value;
}
/**
 * The spelling an entry is known by on every machine: normalised, relative to home when written with `~`,
 * and relative to the workspace when written inside it (`${{ github.workspace }}/data` is `data` on a runner
 * whose workspace is elsewhere). Other absolute paths stay absolute, as written.
 */
function spellPath(raw, workspace) {
    const trimmed = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
    if (trimmed === '~' || trimmed.startsWith('~/')) {
        const rest = path.posix.normalize(trimmed.slice(1).replace(/^\/+/, '') || '.');
        return { spelled: rest === '.' ? '~' : `~/${rest}`, path: path.resolve(os.homedir(), rest) };
    }
    const resolved = path.resolve(workspace, trimmed);
    if (!path.isAbsolute(trimmed))
        return { spelled: path.posix.normalize(trimmed), path: resolved };
    const inside = path.relative(workspace, resolved);
    const outside = inside === '..' || inside.startsWith('../') || path.isAbsolute(inside);
    return { spelled: outside ? path.posix.normalize(trimmed) : inside || '.', path: resolved };
}
function absolute(p, workspace) {
    return path.resolve(workspace, expandHome(p));
}

;// CONCATENATED MODULE: ./src/config/secrets.ts



/**
 * Masks the inputs (and the AWS credential variables) that may hold secrets, first thing in main and post, before anything can log them. (The
 * config parse has no effects; HF_TOKEN and a key file's content are masked where they are read.)
 */
function maskSecretInputs() {
    for (const name of [constants_Inputs.HfToken, constants_Inputs.GithubToken]) {
        const token = lib_core/* getInput */.V4(name).trim();
        if (token)
            lib_core/* setSecret */.Pq(token);
    }
    const key = lib_core/* getInput */.V4(constants_Inputs.NixSigningKey).trim();
    if (key && isInlineKey(key))
        lib_core/* setSecret */.Pq(key);
    // The s3 backend's credentials come from the AWS chain; those in the environment are masked here, those
    // from a profile or web identity by the backend once the SDK has resolved them.
    for (const name of [Env.AwsAccessKeyId, Env.AwsSecretAccessKey, Env.AwsSessionToken]) {
        const value = process.env[name]?.trim();
        if (value)
            maskSecret(value);
    }
}
const masked = new Set();
/** core.setSecret once per value: the s3 backend masks what the SDK resolved, often the variables masked here. */
function maskSecret(value) {
    if (masked.has(value))
        return;
    masked.add(value);
    lib_core/* setSecret */.Pq(value);
}

;// CONCATENATED MODULE: ./src/util/capture.ts

const innermost = new external_node_async_hooks_.AsyncLocalStorage();
/** How many hookStdout calls are running: stdout.write is replaced while there is one. */
let running = 0;
let replaced;
/**
 * Runs `work` with every chunk it (and whatever it starts) writes to stdout handed to `hook` first; the
 * chunk goes on to outer hooks and to stdout when `hook` returns true. Writes from other work are not seen.
 */
async function hookStdout(hook, work) {
    if (running++ === 0)
        replaceWrite();
    try {
        return await innermost.run({ accept: hook, outer: innermost.getStore() }, work);
    }
    finally {
        if (--running === 0)
            restoreWrite();
    }
}
function replaceWrite() {
    const stdout = process.stdout;
    replaced = Object.getOwnPropertyDescriptor(stdout, 'write');
    const write = stdout.write.bind(stdout);
    stdout.write = function (chunk, ...rest) {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        for (let hook = innermost.getStore(); hook; hook = hook.outer) {
            if (hook.accept(text))
                continue;
            const callback = rest.find(arg => typeof arg === 'function');
            callback?.();
            return true;
        }
        return write(chunk, ...rest);
    };
}
/** Back to exactly what was there: the stream's own write, or one a test put there. */
function restoreWrite() {
    const stdout = process.stdout;
    if (replaced)
        Object.defineProperty(stdout, 'write', replaced);
    else
        delete stdout.write;
    replaced = undefined;
}
/**
 * Runs `work` while copying what @actions/core writes to stdout. @actions/cache reports archive sizes
 * and failure reasons only in its log (saveCache returns just an id), and the ledger needs both.
 * Everything still reaches the runner unchanged.
 */
async function captureLog(work) {
    const lines = [];
    let pending = '';
    const result = await hookStdout(text => {
        const complete = (pending + text).split(/\r?\n/);
        pending = complete.pop() ?? '';
        lines.push(...complete);
        return true;
    }, work);
    return { result, lines: pending ? [...lines, pending] : lines };
}
/**
 * Runs `work` with what it writes held back, then writes all of it at once, whether `work` succeeded or
 * not: a kind's group (`::group::Restore pip` … `::endgroup::`) stays in one piece while other kinds log
 * at the same time. Written from the caller's context, so outer hooks (the CLI's filter) still see it.
 */
async function holdOutput(work) {
    const held = [];
    try {
        return await hookStdout(text => {
            // A mask must reach the runner before any line that may hold the secret, whichever kind writes it.
            if (text.startsWith('::add-mask::'))
                return true;
            held.push(text);
            return false;
        }, work);
    }
    finally {
        if (held.length > 0)
            process.stdout.write(held.join(''));
    }
}
function parseLogLine(line) {
    const match = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (!match)
        return { command: null, text: line };
    // Workflow command data escapes %, CR and LF.
    return { command: match[1], text: match[2].replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%') };
}

// EXTERNAL MODULE: external "node:diagnostics_channel"
var external_node_diagnostics_channel_ = __webpack_require__(3053);
;// CONCATENATED MODULE: ./src/util/request-watch.ts




const watching = new external_node_async_hooks_.AsyncLocalStorage();
let subscribed = false;
/** The channel passes `{ request }`, in the constructor: before the request has a socket or sent a byte. */
function onRequestCreated(message) {
    const watch = watching.getStore();
    if (watch)
        watchRequest(message.request, watch);
}
/**
 * Runs `work`, destroying any request it makes through node:http(s) that goes `idleMs` without a byte, and
 * rejects with that IdleTimeoutError as soon as one does; what the abandoned work logs after that is dropped
 * (its own complaint about the destroyed request would only repeat the stall, outside its group).
 */
async function watchRequests(idleMs, label, work) {
    if (!subscribed) {
        (0,external_node_diagnostics_channel_.subscribe)('http.client.request.created', onRequestCreated);
        subscribed = true;
    }
    let stall;
    const stalled = new Promise((_, reject) => (stall = reject));
    const watch = {
        idleMs,
        label,
        stalled: null,
        onStall: stall
    };
    const running = watching.run(watch, () => hookStdout(() => watch.stalled === null, work));
    // The abandoned work may still fail later; it was reported through the stall already.
    running.catch(() => undefined);
    return Promise.race([running, stalled]);
}
function watchRequest(request, watch) {
    if (watch.stalled) {
        request.destroy(watch.stalled);
        return;
    }
    const idle = new IdleWatch(watch.idleMs, () => `${watch.label}: ${describe(request)}`);
    idle.signal.addEventListener('abort', () => {
        const error = idle.signal.reason;
        watch.stalled = error;
        request.destroy(error);
        watch.onStall(error);
    });
    const touch = () => idle.touch();
    // A socket paused by its reader is our side (a slow disk) holding the bytes back, not the server.
    const hold = () => idle.hold();
    const release = () => idle.release();
    request.once('socket', (socket) => {
        socket.on('data', touch).on('pause', hold).on('resume', release);
        request.once('close', () => socket.off('data', touch).off('pause', hold).off('resume', release));
    });
    request.once('close', () => idle.stop());
}
/** `127.0.0.1:40123, GET /devstoreaccount1/cache/entry-3`: no query, which holds the URL's signature. */
function describe(request) {
    const host = request.getHeader('host') ?? request.host;
    return `${String(host)}, ${request.method} ${request.path.split('?')[0]}`;
}

;// CONCATENATED MODULE: ./src/backends/backend.ts
/** The part names of a spec as one machine-independent list: what an entry's version is computed from. */
function partIdentities(spec) {
    return spec.parts.map(part => `${part.origin}:${part.name}`);
}
function partPaths(spec) {
    return spec.parts.map(part => part.path);
}
/**
 * The store refuses this run's writes (credentials that may read but not write): the save is `read-only`,
 * and only the first refusal of a job is a warning.
 */
class ReadOnlyStoreError extends Error {
    firstInJob;
    constructor(message, 
    /** False for the saves after the first refusal: the job was told already. */
    firstInJob) {
        super(message);
        this.firstInJob = firstInJob;
        this.name = 'ReadOnlyStoreError';
    }
}
function missed(otherIdentity = null) {
    return { matchedKey: null, otherIdentity };
}

;// CONCATENATED MODULE: ./src/backends/github.ts







/**
 * Loaded on first use: the library and its Azure SDK take ~300 ms to load, which runs on the local
 * backend would pay for nothing.
 */
function loadCacheLibrary() {
    return __webpack_require__.e(/* import() */ 312).then(__webpack_require__.bind(__webpack_require__, 9312));
}
/**
 * The GitHub Actions cache service, through @actions/cache (v2 protocol): no protocol code of our own.
 *
 * The library computes an entry's version from the path strings it is handed and names tar members
 * relative to GITHUB_WORKSPACE; resolved paths would tie an entry to one machine's home and workspace.
 * So every call runs in a directory of links named by the parts' machine-independent names (see
 * `portableNames`): the library is handed `pip-cache/*` or `workspace/build/ccache`, its tar reads and
 * writes through the links, and the same names resolve to this machine's directories wherever they are.
 */
class GitHubBackend {
    name = 'github';
    restoresInPlace = false;
    environment = new LibraryEnvironment();
    idleTimeoutMs;
    constructor(options = {}) {
        this.idleTimeoutMs = options.idleTimeoutMs ?? idle_DEFAULT_IDLE_TIMEOUT_MS;
    }
    async restore(spec, key, restoreKeys) {
        const cache = await loadCacheLibrary();
        const { result: matchedKey, lines } = await this.environment.around('restore', spec, patterns => captureLog(() => watchRequests(this.idleTimeoutMs, 'the cache service stalled', () => cache.restoreCache(patterns, key, restoreKeys))));
        if (matchedKey)
            return { matchedKey, archiveBytes: archiveSize(lines, /^Cache Size: ~\d+ MB \((\d+) B\)$/) };
        // The library swallows faults and returns undefined as for a miss; its warning tells them apart.
        const problem = failure(lines, 'Failed to restore: ');
        if (problem)
            throw new Error(problem);
        return missed(versionNote(lines, spec));
    }
    async save(spec, key) {
        const cache = await loadCacheLibrary();
        const { result: id, lines } = await this.environment.around('save', spec, patterns => captureLog(() => cache.saveCache(patterns, key)));
        if (id === -1)
            throw new Error(failure(lines, 'Failed to save: ') ?? 'the cache service did not accept the entry');
        return { archiveBytes: archiveSize(lines, /^File Size: (\d+)$/) };
    }
}
/**
 * The process-wide state the library reads: GITHUB_WORKSPACE (a directory of links, one per part, see
 * portableNames), TAR_OPTIONS (what our archives need) and, to resolve a save's paths, the cwd. Restores
 * set the two variables alike and never need the cwd (the library's tar extracts with -C GITHUB_WORKSPACE),
 * so any number of them run at once in one directory, each adding its links (two that need one name for
 * different directories take turns), and the cwd stays where it is for whatever else runs meanwhile: other
 * kinds' afterRestore hooks start while restores still go on. Those hooks see the two variables changed
 * until the last restore leaves; none reads them (the compose build, the one that runs the user's code,
 * waits for every restore). A save's TAR_OPTIONS carry its kind's never-archive patterns and it needs the
 * cwd, so a save has the process to itself. Calls are admitted in the order they came; everything is put
 * back when the last one leaves.
 */
class LibraryEnvironment {
    mode = null;
    calls = 0;
    dir = '';
    saved = null;
    links = new Map();
    queue = [];
    async around(mode, spec, work) {
        const names = spec.parts.map(portableNames);
        await new Promise((admit, refuse) => {
            this.queue.push({ mode, spec, names, admit, refuse });
            this.admitWaiting();
        });
        try {
            return await work(names.map(name => name.pattern));
        }
        finally {
            this.leave(names);
            this.admitWaiting();
        }
    }
    admitWaiting() {
        while (this.queue.length > 0 && this.admits(this.queue[0])) {
            const next = this.queue.shift();
            try {
                this.enter(next);
                next.admit();
            }
            catch (error) {
                next.refuse(error);
            }
        }
    }
    admits(next) {
        if (this.calls === 0)
            return true;
        return (this.mode === 'restore' &&
            next.mode === 'restore' &&
            next.names.every(name => (this.links.get(name.link)?.target ?? name.target) === name.target));
    }
    /** Synchronous, so nothing else runs between the check that admitted a call and its links being there. */
    enter({ mode, spec, names }) {
        if (this.calls === 0)
            this.setUp(mode, spec);
        this.calls++;
        const added = [];
        try {
            for (const name of names) {
                this.addLink(name, mode);
                added.push(name);
            }
        }
        catch (error) {
            this.leave(added);
            throw error;
        }
    }
    setUp(mode, spec) {
        this.dir = (0,external_node_fs_.mkdtempSync)(external_node_path_.join(temp_runnerTemp(), 'qdc-links-'));
        this.saved = { cwd: process.cwd(), workspace: process.env.GITHUB_WORKSPACE, tar: process.env.TAR_OPTIONS };
        this.mode = mode;
        if (mode === 'save')
            process.chdir(this.dir);
        process.env.GITHUB_WORKSPACE = this.dir;
        process.env.TAR_OPTIONS = [this.saved.tar, ...tarOptions(spec, mode)].filter(Boolean).join(' ');
    }
    /** Before a restore the directories are made, so tar extracts through the links into them. */
    addLink(name, mode) {
        const held = this.links.get(name.link);
        if (held) {
            held.users++;
            return;
        }
        if (mode === 'restore')
            (0,external_node_fs_.mkdirSync)(name.target, { recursive: true });
        (0,external_node_fs_.symlinkSync)(name.target, external_node_path_.join(this.dir, name.link));
        this.links.set(name.link, { target: name.target, users: 1 });
    }
    leave(names) {
        for (const name of names) {
            const held = this.links.get(name.link);
            if (held && --held.users === 0) {
                this.links.delete(name.link);
                // Removes the link only: unlink never follows a symlink.
                (0,external_node_fs_.rmSync)(external_node_path_.join(this.dir, name.link), { force: true });
            }
        }
        if (--this.calls === 0)
            this.tearDown();
    }
    tearDown() {
        const saved = this.saved;
        if (this.mode === 'save')
            process.chdir(saved.cwd);
        restoreEnv('GITHUB_WORKSPACE', saved.workspace);
        restoreEnv('TAR_OPTIONS', saved.tar);
        (0,external_node_fs_.rmSync)(this.dir, { recursive: true, force: true });
        this.mode = null;
        this.saved = null;
    }
}
/** True when the runner gave this job a cache service to talk to. */
async function github_gitHubCacheAvailable() {
    // Without either URL no protocol version can be available; skip loading the library to say so.
    if (!process.env.ACTIONS_RESULTS_URL && !process.env.ACTIONS_CACHE_URL)
        return false;
    return (await loadCacheLibrary()).isFeatureAvailable();
}
/**
 * A role is a link to the kind's directory, archived as `<role>/*` (its contents, whatever the directory is
 * called here). A spelled path is archived as written below a link to what it is relative to: `workspace`,
 * `home` or `root` (`/`), with `-up<N>` when the spelling climbs out of it (`../shared` → `workspace-up1`).
 */
function portableNames(part) {
    if (part.origin === 'role')
        return { link: part.name, target: part.path, pattern: `${part.name}/*` };
    const { base, rest } = spellingRoot(part.name);
    const segments = rest.split('/').filter(segment => segment !== '' && segment !== '.');
    const ups = segments.filter(segment => segment === '..').length;
    const below = segments.slice(ups);
    const link = ups > 0 ? `${base}-up${ups}` : base;
    const target = below.reduce(dir => external_node_path_.dirname(dir), part.path);
    return below.length === 0 ? { link, target: part.path, pattern: `${link}/*` } : { link, target, pattern: `${link}/${below.join('/')}` };
}
function spellingRoot(spelled) {
    if (spelled === '~' || spelled.startsWith('~/'))
        return { base: 'home', rest: spelled.slice(1) };
    if (spelled.startsWith('/'))
        return { base: 'root', rest: spelled };
    return { base: 'workspace', rest: spelled };
}
/**
 * GNU tar reads TAR_OPTIONS, which is how the kinds' never-archive patterns reach the library's tar on
 * save. On restore, --no-same-owner makes the restoring user the owner of everything (an entry saved by
 * root restores for an unprivileged user, and a root without CAP_CHOWN never fails to chown), -p keeps the
 * modes as saved, and --keep-directory-symlink keeps the links extraction goes through.
 */
function tarOptions(spec, mode) {
    if (mode === 'restore')
        return ['--no-same-owner', '--same-permissions', '--keep-directory-symlink'];
    return spec.exclude.map(pattern => `--exclude=${pattern.replace(/([\\\s])/g, '\\$1')}`);
}
function restoreEnv(name, value) {
    if (value === undefined)
        delete process.env[name];
    else
        process.env[name] = value;
}
/**
 * On a miss the library says (in a debug line) which version it looked for. The service cannot list other
 * versions of a key, so this says what the version is made of: an entry saved under these keys from other
 * paths, another spelling or another compression is under another version and does not match.
 */
function versionNote(lines, spec) {
    const looked = lines.map(parseLogLine).find(line => line.command === 'debug' && line.text.startsWith('Cache not found for version '));
    const version = /^Cache not found for version (\S+)/.exec(looked?.text ?? '')?.[1];
    if (!version)
        return null;
    const patterns = spec.parts.map(part => portableNames(part).pattern).join(', ');
    return `The cache service has no entry for these keys with version ${version.slice(0, 12)}…, which is computed from the paths ${patterns} and the compression; an entry saved under them with other paths, another spelling or another compression has another version.`;
}
function archiveSize(lines, pattern) {
    for (const { text } of lines.map(parseLogLine)) {
        const match = pattern.exec(text.trim());
        if (match)
            return Number(match[1]);
    }
    return null;
}
/**
 * The library's reason for a failure, in one line. Its visible message is often generic ("another job
 * may be creating this cache" also stands for 429 and connection refused); the cause is in a debug line.
 */
function failure(lines, prefix) {
    const log = lines.map(parseLogLine);
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

;// CONCATENATED MODULE: ./src/util/errors.ts
/** Turns anything thrown into a message fit for one log line. */
function stringifyError(error) {
    if (error instanceof Error)
        return error.message;
    if (typeof error === 'string')
        return error;
    return JSON.stringify(error);
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./src/backends/archive.ts





/*
 * The archives of the stores qdc owns (local, and any object store): one zstd tar per part, made with
 * `tar -C <part> .`, so every member is relative to the directory it is extracted into. Nothing in an
 * archive names the machine it was made on, and tar's own refusal of names that leave the directory
 * applies as is. Extraction goes into a staging directory beside the target and is moved into place only
 * once every part of the entry extracted cleanly: a corrupt or hostile archive never touches the target.
 */
/** The compression every archive is written with: part of an entry's identity. */
const ARCHIVE_COMPRESSION = 'zstd';
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
/** Starts tar with `tarArgs` (from tarCreateArgs): the stores write, hash or upload its output as it comes. */
function tarOutput(tarArgs) {
    const tar = (0,external_node_child_process_.spawn)('tar', tarArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: tarEnv() });
    return { stdout: tar.stdout, exited: exitOf(tar, 'tar -c'), stop: () => tar.kill('SIGTERM') };
}
/** Writes tar's output to a new read-only file, hashing the bytes on their way to disk; fsynced. */
async function writeArchive(tarArgs, temp) {
    const handle = await promises_.open(temp, 'wx', 0o444);
    const tar = tarOutput(tarArgs);
    try {
        const hash = external_node_crypto_.createHash('sha256');
        let bytes = 0;
        for await (const chunk of tar.stdout) {
            hash.update(chunk);
            bytes += chunk.length;
            // write() may take less than the whole chunk.
            for (let offset = 0; offset < chunk.length;)
                offset += (await handle.write(chunk, offset)).bytesWritten;
        }
        await tar.exited;
        await handle.sync();
        return { sha256: hash.digest('hex'), bytes };
    }
    catch (error) {
        tar.stop();
        throw error;
    }
    finally {
        await handle.close();
    }
}
/**
 * The archive itself failed to decompress: zstd refused its frames (a flipped byte fails the frame's
 * content checksum, a cut-off archive ends inside a frame). Not tar refusing what the archive holds.
 */
class CorruptArchiveError extends Error {
    constructor(message) {
        super(message);
        this.name = 'CorruptArchiveError';
    }
}
/**
 * Extracts one archive (a file descriptor read from its current offset, or a stream) into a fresh staging
 * directory beside `target`. A failure removes the staging directory and throws with tar's complaint, or a
 * CorruptArchiveError with zstd's.
 */
async function extractToStaging(input, kind, target) {
    const staging = await makeStaging(target);
    try {
        const problem = await untar(input, staging);
        if (problem)
            throw new Error(`refused entry: ${problem}`);
    }
    catch (error) {
        await promises_.rm(staging, { recursive: true, force: true });
        throw error;
    }
    return { staging, restored: kind === 'tree' ? staging : external_node_path_.join(staging, external_node_path_.basename(target)), target };
}
/** Beside the target, so moving the result into place is a rename on the same filesystem. */
async function makeStaging(target) {
    await promises_.mkdir(external_node_path_.dirname(target), { recursive: true });
    return promises_.mkdtemp(external_node_path_.join(external_node_path_.dirname(target), `.${external_node_path_.basename(target)}.qdc-restore-`));
}
/** GNU tar's warnings that it rewrote or skipped a name that pointed outside the directory. */
const ESCAPE_WARNINGS = /Removing leading|contains '\.\.'|Skipping to next header|Cannot (open|hard link|create)/;
/**
 * null when tar extracted everything as archived, else what it complained about. GNU tar (no -P) refuses
 * absolute names, `..` and writes through symlinks; a warning that it rewrote a name refuses the archive.
 * -p keeps modes exactly as saved rather than filtered through the job's umask; --no-same-owner makes the
 * restoring user the owner of everything, so an entry saved by root restores for an unprivileged user and
 * the other way round, and a root without CAP_CHOWN (a user namespace, a container) never fails to chown.
 *
 * zstd runs as our own child, its output going to tar through an OS pipe that Node never reads, rather than
 * as tar's `-I zstd`: its exit status is then its own verdict on the archive. It verifies the frame's
 * checksum of the content (XXH64) at the end of the frame, so a flipped byte fails it even when tar already
 * took every member; the staging directory is removed and nothing reaches the target. Given a descriptor,
 * zstd reads the file itself (`tar -I zstd -f -` forks a helper that copies the archive into the
 * decompressor through one more pipe: about 0.4 s of CPU per 480 MiB on a 2-core runner).
 */
async function untar(input, directory) {
    const zstd = (0,external_node_child_process_.spawn)('zstd', ['-d', '-c', '-q'], { stdio: [typeof input === 'number' ? input : 'pipe', 'pipe', 'pipe'] });
    const decompressed = outcomeOf(zstd);
    const args = ['--warning=no-timestamp', '--warning=no-unknown-keyword', '--no-same-owner', '-xpf', '-', '-C', directory];
    const tar = (0,external_node_child_process_.spawn)('tar', args, { stdio: [zstd.stdout, 'ignore', 'pipe'], env: tarEnv() });
    // tar has its own copy of the pipe's end now: ours would see zstd's output first, and keep it open.
    zstd.stdout.destroy();
    if (typeof input !== 'number') {
        // A stream that stops early (failed or destroyed, also before we got here) cuts zstd's input: zstd then
        // reports a truncated frame instead of waiting for bytes that never come.
        (0,external_node_stream_.finished)(input, error => error && zstd.stdin?.destroy());
        zstd.stdin.once('error', () => input.destroy());
        input.pipe(zstd.stdin);
    }
    const [unpacked, extracted] = await Promise.all([decompressed, outcomeOf(tar)]);
    // Whoever feeds the stream must not wait for a reader that is gone (zstd or tar stopped early on a bad archive).
    if (typeof input !== 'number')
        input.destroy();
    // A zstd that exited on its own with a failure refused the archive; one killed (by SIGPIPE) only saw tar
    // stop reading, and tar says why.
    if (unpacked.code !== 0 && unpacked.signal === null)
        throw new CorruptArchiveError(`does not decompress (zstd: ${firstLineOf(unpacked.stderr) || `exit ${unpacked.code}`})`);
    const complaint = extracted.stderr.split('\n').find(line => ESCAPE_WARNINGS.test(line)) ?? firstLineOf(extracted.stderr);
    if (extracted.code !== 0)
        return complaint || `tar exited with ${extracted.signal ?? extracted.code}`;
    if (unpacked.signal !== null)
        return `zstd was stopped by ${unpacked.signal} before the end of the archive`;
    return ESCAPE_WARNINGS.test(extracted.stderr) ? complaint : null;
}
/** How a child ended, with what it wrote to stderr; rejects only when it could not be started. */
function outcomeOf(child) {
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    return handled(new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => resolve({ code, signal, stderr }));
    }));
}
function firstLineOf(text) {
    return text.trim().split('\n')[0].trim();
}
/** The bytes read are not the archive the manifest describes; the message says how (`is N bytes, M were written`). */
class ArchiveMismatch extends Error {
}
/** tar refused or failed on bytes that did match the manifest; the message is tar's complaint. */
class ExtractionFailed extends Error {
}
/**
 * The one way a store qdc owns restores a part: extract into staging while the same bytes are hashed
 * (`hashed` settles once all of them were), and hand the staged result back only when size and digest match
 * the manifest. Otherwise staging is removed and the error says what was wrong, the bytes before tar's
 * complaint (a truncated or altered archive makes tar fail too): `hashed`'s own failure (the read or the
 * download broke), then ArchiveMismatch, then ExtractionFailed.
 */
async function extractVerified(input, hashed, expected, kind, target) {
    const [digest, extracted] = await Promise.allSettled([hashed, extractToStaging(input, kind, target)]);
    const stage = extracted.status === 'fulfilled' ? extracted.value : null;
    try {
        if (digest.status === 'rejected')
            throw digest.reason;
        if (digest.value.bytes !== expected.bytes)
            throw new ArchiveMismatch(`is ${digest.value.bytes} bytes, ${expected.bytes} were written`);
        if (digest.value.sha256 !== expected.sha256)
            throw new ArchiveMismatch('does not match its SHA-256');
        if (extracted.status === 'rejected')
            throw new ExtractionFailed(extracted.reason.message);
    }
    catch (error) {
        if (stage)
            await promises_.rm(stage.staging, { recursive: true, force: true });
        throw error;
    }
    return stage;
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
    return handled(outcomeOf(child).then(({ code, signal, stderr }) => {
        if (code !== 0)
            throw new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
    }));
}
/** An exit can fail while the caller still streams; it awaits the promise later, so no unhandled rejection. */
function handled(promise) {
    promise.catch(() => undefined);
    return promise;
}
function ignoreCode(...codes) {
    return error => {
        if (!codes.includes(error.code ?? ''))
            throw error;
        return undefined;
    };
}

;// CONCATENATED MODULE: ./src/backends/entry-meta.ts




/*
 * The manifest of an entry in a store qdc owns: what the entry is (its identity), which archive holds each
 * part, and each archive's size and SHA-256. The identity names no machine: part names, the store format
 * and the compression. Its hash is the entry's version, so an entry made on one runner is found on another.
 */
/**
 * 2: parts are named by role or spelling and archived relative to themselves. 1 (before portable entries):
 * parts were absolute paths of the machine that saved them; such entries still list, verify and prune,
 * but never restore.
 */
const STORE_FORMAT = 2;
const ARCHIVE_NAME = /^[0-9a-f]{16}-\d+\.tar\.zst$/;
/** A save's random id: it names the save's archives, so no save ever overwrites another's. */
function newSaveId() {
    return external_node_crypto_.randomBytes(8).toString('hex');
}
/** The archive of part `index` of save `saveId`. */
function archiveFileName(saveId, index) {
    return `${saveId}-${index}.tar.zst`;
}
/** The manifest of a save whose parts are archived (and hashed) already. */
function newEntryMeta(spec, key, saveId, parts, now) {
    const identity = identityOf(spec);
    return {
        format: STORE_FORMAT,
        key,
        version: versionOf(identity),
        saveId,
        created: now,
        lastUsed: now,
        identity,
        parts,
        ...(spec.kind ? { kind: spec.kind } : {})
    };
}
function entryInfo(meta) {
    return { key: meta.key, kind: meta.kind, version: meta.version, bytes: entryBytes(meta), created: meta.created, lastUsed: meta.lastUsed };
}
function identityOf(spec) {
    return { format: STORE_FORMAT, compression: ARCHIVE_COMPRESSION, parts: partIdentities(spec) };
}
function versionOf(identity) {
    return sha256(JSON.stringify(identity));
}
function sha256(text) {
    return external_node_crypto_.createHash('sha256').update(text).digest('hex');
}
function entryBytes(meta) {
    return meta.parts.reduce((sum, part) => sum + (part.kind === 'missing' ? 0 : part.bytes), 0);
}
function archiveFiles(meta) {
    return meta.parts.flatMap(part => (part.kind === 'missing' ? [] : [part.file]));
}
/**
 * What is wrong with a manifest read from a store that other jobs write to, or null. Everything later used
 * as a file name or an extraction plan is checked here; `dirName`/`versionDir` are where it was found.
 */
function metaProblem(meta, keyHash, versionDir) {
    if (meta.format !== STORE_FORMAT && meta.format !== 1)
        return `unknown format ${String(meta.format)}`;
    // Lookup by prefix reads key and version from the manifest; they must name the place it sits in.
    if (typeof meta.key !== 'string' || sha256(meta.key) !== keyHash)
        return 'key does not match its directory';
    if (meta.version !== versionDir)
        return 'version does not match its directory';
    if (!Number.isFinite(meta.created) || !Number.isFinite(meta.lastUsed))
        return 'bad timestamps';
    if (!Array.isArray(meta.parts))
        return 'no parts';
    if (meta.format === STORE_FORMAT) {
        const identity = meta.identity;
        if (!identity || !Array.isArray(identity.parts) || identity.parts.length !== meta.parts.length)
            return 'parts do not match the identity';
        if (versionOf(identity) !== meta.version)
            return 'identity does not match the version';
    }
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
/**
 * GitHub's lookup rule, the same in every store qdc owns: the exact key, else for each restore key in order
 * the newest entry it prefixes. Both finders look in the wanted version only.
 */
async function lookUpEntry(key, restoreKeys, exact, newestPrefixed) {
    const hit = await exact(key);
    if (hit)
        return hit;
    for (const prefix of restoreKeys) {
        const found = await newestPrefixed(prefix);
        if (found)
            return found;
    }
    return undefined;
}
/** The entries a miss on `key` is explained by: the key itself and its revisions. */
function isKeyOrRevision(candidate, key) {
    return candidate === key || candidate.startsWith(key + constants_REVISION_SEPARATOR);
}
/**
 * After a miss: one line naming the newest entry of the key (or a revision) stored under another identity
 * and what of its identity differs; null when there is none, or when nothing differs.
 */
function otherIdentityNote(others, wanted) {
    if (others.length === 0)
        return null;
    const other = others.reduce((latest, meta) => (meta.created > latest.created ? meta : latest));
    const difference = identityDifference(other, wanted);
    return difference ? `The store holds ${other.key} under another identity, so it does not match: ${difference}.` : null;
}
/**
 * One line saying why an entry stored under the wanted key is not this one: which part of the identity
 * differs. null when the identities agree.
 */
function identityDifference(stored, wanted) {
    if (stored.format !== wanted.format || !stored.identity) {
        return `it was saved in store format ${stored.format}${stored.format === 1 ? ' (before entries were portable: tied to the absolute paths of the machine that saved it)' : ''}, this run uses format ${wanted.format}`;
    }
    const have = stored.identity;
    if (have.compression !== wanted.compression)
        return `it was compressed with ${have.compression}, this run uses ${wanted.compression}`;
    if (JSON.stringify(have.parts) === JSON.stringify(wanted.parts))
        return null;
    const missing = wanted.parts.filter(part => !have.parts.includes(part));
    const extra = have.parts.filter(part => !wanted.parts.includes(part));
    if (missing.length === 0 && extra.length === 0)
        return `its parts are in another order (${have.parts.map(readable).join(', ')})`;
    const said = [
        extra.length > 0 ? `it also holds ${extra.map(readable).join(', ')}` : '',
        missing.length > 0 ? `it lacks ${missing.map(readable).join(', ')}` : ''
    ].filter(Boolean);
    return `its paths differ: ${said.join('; ')}`;
}
function readable(identity) {
    const [origin, ...rest] = identity.split(':');
    const name = rest.join(':');
    return origin === 'role' ? name : `'${name}'`;
}

// EXTERNAL MODULE: ./node_modules/proper-lockfile/index.js
var proper_lockfile = __webpack_require__(3648);
var proper_lockfile_default = /*#__PURE__*/__webpack_require__.n(proper_lockfile);
;// CONCATENATED MODULE: ./src/backends/locks.ts

/** A publish holds an entry lock for a few renames; waiting up to about a minute covers a busy host. */
const LOCK_RETRIES = { retries: 60, factor: 1.3, minTimeout: 50, maxTimeout: 2000 };
/**
 * Runs work holding a proper-lockfile lock; a holder that died leaves a lock that goes stale
 * (its mtime stops being refreshed) and is taken over. Losing the lock midway makes
 * assertHeld throw, so the caller does not commit under someone else's feet.
 */
async function withLock(lockPath, work, retries = LOCK_RETRIES) {
    let lost;
    const release = await proper_lockfile_default().lock(lockPath, {
        realpath: false,
        retries,
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
/** A store this user may read but not write (another user's, or mounted read-only): locks cannot be taken. */
function isReadOnlyError(error) {
    return ['EACCES', 'EPERM', 'EROFS'].includes(error.code ?? '');
}

;// CONCATENATED MODULE: ./src/backends/local/history.ts



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
    const lines = entries.map(e => JSON.stringify({
        time: now,
        kind: e.kind,
        backend: e.backend,
        hit: e.hit,
        downloadedBytes: e.downloadedBytes,
        reusedBytes: e.reusedBytes,
        saved: e.saved
    }));
    await promises_.mkdir(storeRoot, { recursive: true });
    await promises_.appendFile(historyFile(storeRoot), lines.map(line => line + '\n').join(''));
    const all = await readHistory(storeRoot);
    if (all.length > MAX_LINES) {
        await atomic_writeFileAtomic(historyFile(storeRoot), all
            .slice(-MAX_LINES / 2)
            .map(line => JSON.stringify(line) + '\n')
            .join(''));
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
function layout_inPlaceDir(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), kind);
}
function metaFile(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), '.meta', `${kind}.json`);
}
function layout_leaseDir(storeRoot, kind) {
    return external_node_path_.join(inPlaceRoot(storeRoot), '.leases', kind);
}
/** The kinds that have an in-place directory in this store. */
async function inPlaceKinds(storeRoot) {
    const names = await promises_.readdir(inPlaceRoot(storeRoot)).catch(() => []);
    return names.filter(name => !name.startsWith('.')).sort();
}

;// CONCATENATED MODULE: ./src/util/process.ts
/** Whether a process with this pid runs on this host (EPERM: it does, as another user). */
function isRunning(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (error) {
        return error.code === 'EPERM';
    }
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
        const taken = await withLock(dir, async () => {
            const live = await liveLeases(dir);
            const blocked = mode === 'exclusive' ? live.length > 0 : live.some(lease => lease.mode === 'exclusive');
            if (blocked)
                return null;
            const file = external_node_path_.join(dir, `${external_node_crypto_.randomBytes(8).toString('hex')}.json`);
            const record = { mode, pid: holderPid(), host: external_node_os_.hostname(), created: Date.now() };
            await atomic_writeFileAtomic(file, JSON.stringify(record));
            return file;
        }, MUTEX_RETRIES);
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
    const configured = Number(process.env[Env.LeasePid]);
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
    return record.host !== external_node_os_.hostname() || isRunning(record.pid);
}

;// CONCATENATED MODULE: ./src/measure/tree.ts



/** Walks the paths without following symlinks, skipping what the kind never archives. */
async function snapshotTree(paths, exclude) {
    const snapshot = {};
    await walkFiles(paths, exclude, (file, stat) => (snapshot[file] = [stat.size, Math.trunc(stat.mtimeMs)]));
    return snapshot;
}
/** Between two yields to the event loop during a walk: a few milliseconds of lstat calls. */
const ENTRIES_PER_TURN = 1000;
/**
 * Every file and symlink below the roots (not following links), but names matching `exclude`, in order.
 * The calls are synchronous: a stat of a file in the page cache takes microseconds, and sending each one
 * to libuv's pool and back cost three to four times the walk itself (40 ms instead of 10 for 2,000 files
 * here). The walk yields every ENTRIES_PER_TURN entries so a large tree never holds the event loop (other
 * kinds restoring, a download's timers) for more than a few milliseconds.
 */
async function walkFiles(roots, exclude, visit) {
    const excluded = exclude.map(globToRegExp);
    // Depth first, names in readdir order: a stack holding them reversed.
    const pending = [...roots].reverse();
    for (let turn = 0; pending.length > 0; turn++) {
        if (turn === ENTRIES_PER_TURN) {
            turn = 0;
            await new Promise(resolve => setImmediate(resolve));
        }
        const entry = pending.pop();
        if (excluded.some(pattern => pattern.test(external_node_path_.basename(entry))))
            continue;
        const stat = lstatOrNull(entry);
        if (!stat)
            continue;
        if (!stat.isDirectory()) {
            visit(entry, stat);
            continue;
        }
        const names = readdirOrEmpty(entry);
        for (let i = names.length - 1; i >= 0; i--)
            pending.push(external_node_path_.join(entry, names[i]));
    }
}
/** A file that went away during the walk is simply not there. */
function lstatOrNull(entry) {
    try {
        return (0,external_node_fs_.lstatSync)(entry);
    }
    catch {
        return null;
    }
}
function readdirOrEmpty(dir) {
    try {
        return (0,external_node_fs_.readdirSync)(dir);
    }
    catch {
        return [];
    }
}
/** tar's --exclude wildcards as used by kinds: `*` and `?` within a name. */
function globToRegExp(glob) {
    const body = glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.');
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

;// CONCATENATED MODULE: ./src/backends/local/prune.ts





function sum(list) {
    return list.reduce((total, item) => total + item.bytes, 0);
}
/**
 * The one pruning policy: everything unused for longer than maxAgeMs goes, then the least recently used
 * until what remains (with `pinnedBytes` that cannot go) fits maxBytes.
 */
function chooseToPrune(items, options, now, pinnedBytes = 0) {
    const { maxAgeMs, maxBytes } = options;
    const byLastUse = [...items].sort((a, b) => a.lastUsed - b.lastUsed);
    const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(item => now - item.lastUsed > maxAgeMs));
    const kept = byLastUse.filter(item => !expired.has(item));
    let total = pinnedBytes + kept.reduce((sum, item) => sum + item.bytes, 0);
    const evicted = [];
    for (const item of kept) {
        if (maxBytes === undefined || total <= maxBytes)
            break;
        evicted.push(item);
        total -= item.bytes;
    }
    return [...expired, ...evicted];
}
/**
 * One cap and one age rule for the whole store: archive entries and in-place files compete, the least
 * recently used going first, whatever it is. In-place kinds are pruned under an exclusive lease; a kind a
 * job is using is skipped (its files still count).
 */
async function pruneStore(store, storeRoot, options, now) {
    const leases = [];
    const busyKinds = [];
    const files = [];
    let pinnedBytes = 0;
    try {
        for (const kind of await inPlaceKinds(storeRoot)) {
            const found = await listFiles(kind, layout_inPlaceDir(storeRoot, kind));
            const lease = await lease_acquireLease(storeRoot, kind, 'exclusive').catch((error) => {
                if (error instanceof LeaseBusyError)
                    return null;
                throw error;
            });
            if (lease === null) {
                busyKinds.push(kind);
                pinnedBytes += found.reduce((sum, f) => sum + f.bytes, 0);
            }
            else {
                leases.push(lease);
                files.push(...found);
            }
        }
        return await store.withPruneLock(async () => {
            const entries = await store.listEntries();
            const items = [
                ...entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entry.bytes, entry })),
                ...files.map(file => ({ lastUsed: file.lastUsed, bytes: file.bytes, file }))
            ];
            const doomed = chooseToPrune(items, options, now, pinnedBytes);
            const doomedEntries = doomed.flatMap(item => ('entry' in item ? [item.entry] : []));
            const doomedIds = new Set(doomedEntries.map(entryId));
            const doomedFiles = doomed.flatMap(item => ('file' in item ? [item.file] : []));
            const gone = options.dryRun ? doomedIds : new Set((await store.removeEntries(entry => doomedIds.has(entryId(entry)))).map(entryId));
            // In the order chosen: least recently used first.
            const removed = doomedEntries.filter(entry => gone.has(entryId(entry)));
            if (!options.dryRun)
                await removeFiles(doomedFiles, storeRoot);
            const orphans = [
                ...(await store.sweepOrphans(options.dryRun ?? false)),
                ...(await store.sweepDocuments(options.maxAgeMs, options.dryRun ?? false))
            ];
            const freed = sum(removed) + sum(doomedFiles);
            return {
                entries: removed,
                files: doomedFiles,
                orphans: orphans.map(orphan => external_node_path_.relative(storeRoot, orphan.file)),
                bytes: freed + sum(orphans),
                busyKinds,
                remainingBytes: sum(items) + pinnedBytes - freed
            };
        });
    }
    finally {
        await Promise.all(leases.map(releaseLease));
    }
}
function entryId(entry) {
    return `${entry.version}/${entry.key}`;
}
/** Regular files and symlinks below dir, without following links. */
async function listFiles(kind, dir) {
    const found = [];
    await walkFiles([dir], [], (file, stat) => found.push({ kind, file, bytes: stat.size, lastUsed: Math.max(stat.atimeMs, stat.mtimeMs) }));
    return found;
}
async function removeFiles(files, storeRoot) {
    await Promise.all(files.map(f => promises_.rm(f.file, { force: true })));
    for (const kind of new Set(files.map(f => f.kind)))
        await tidy(layout_inPlaceDir(storeRoot, kind), true);
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

;// CONCATENATED MODULE: ./src/backends/local/store.ts
















/*
 * Store layout (everything on one filesystem, so every publish is a rename):
 *
 *   <root>/entries/<version>/<sha256(key)>/meta.json            the commit point of an entry
 *   <root>/entries/<version>/<sha256(key)>/<saveId>-<i>.tar.zst  one archive per part (archive.ts)
 *   <root>/tmp/                                                 archives being written
 *   <root>/locks/                                               proper-lockfile lock directories
 *
 * The version is the hash of the entry's identity (entry-meta.ts), which names no machine. Archive names
 * carry the save's random id, so a new save never overwrites an archive the current meta.json refers to;
 * the meta.json rename switches entries. Directories the store creates take the root's permission bits, so
 * a root made group-writable (setgid) for several runner users stays usable by all of them.
 */
const META_FILE = 'meta.json';
/** A save in flight keeps its temp file fresh; anything this old was left by a crash. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** A directory store for self-hosted runners: entries addressed like GitHub's cache, never the network. */
class LocalStore {
    name = 'local';
    restoresInPlace = false;
    root;
    clock;
    log;
    pruning;
    rootMode;
    constructor(root, clock = Date.now, options = {}) {
        this.root = root;
        this.clock = clock;
        this.log = options.log ?? (() => undefined);
        this.pruning = options.pruning ?? {};
    }
    get label() {
        return this.root;
    }
    async restore(spec, key, restoreKeys) {
        const identity = identityOf(spec);
        const version = versionOf(identity);
        const found = await this.lookup(version, key, restoreKeys);
        if (!found)
            return missed(await this.otherIdentity(identity, key));
        const opened = await this.openEntry(version, found.key);
        // Pruned between lookup and open: as good as a miss.
        if (!opened)
            return missed();
        const { meta, handles } = opened;
        const staged = [];
        try {
            // The version covers the identity, but meta.json is data from the store: targets come from the spec.
            if (meta.format !== STORE_FORMAT || meta.parts.length !== spec.parts.length)
                throw corrupt(meta.key, `it does not describe ${spec.parts.length} part(s) in format ${STORE_FORMAT}`);
            // Every part is extracted (and so verified) into staging before any is moved in: an entry restores whole or not at all.
            for (const [index, part] of meta.parts.entries()) {
                const target = spec.parts[index];
                const progress = progressLog(`Restoring ${target.name}`, part.kind === 'missing' ? 0 : part.bytes, this.log);
                const stage = await extractPart(handles[index], part, target, meta.key, progress);
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
        const kinds = await Promise.all(spec.parts.map(part => pathKind(part.path)));
        if (kinds.every(kind => kind === 'missing')) {
            throw new Error(`nothing to save: none of these paths exists: ${spec.parts.map(part => part.path).join(', ')}`);
        }
        await this.makeDir(this.tmpDir);
        const saveId = newSaveId();
        const staged = [];
        try {
            for (const [index, part] of spec.parts.entries()) {
                staged.push(await this.stagePart(part, kinds[index], spec.exclude, archiveFileName(saveId, index)));
            }
            const meta = newEntryMeta(spec, key, saveId, staged.map(({ part }) => part), this.clock());
            await this.publish(meta, staged);
            return { archiveBytes: entryBytes(meta) };
        }
        finally {
            // Published temps were renamed away; these are the ones a failure left behind.
            await Promise.all(staged.flatMap(({ temp }) => (temp === null ? [] : [promises_.rm(temp, { force: true })])));
        }
    }
    /** Every readable entry, most recently used first. */
    async listEntries() {
        const entries = await this.storedEntries();
        return entries.map(({ meta }) => entryInfo(meta)).sort((a, b) => b.lastUsed - a.lastUsed);
    }
    /**
     * Drops what was unused for longer than maxAgeMs, then the least recently used until the store fits
     * maxBytes: archive entries and in-place files alike (prune.ts).
     */
    async prune(options = {}) {
        return pruneStore(this, this.root, options, this.clock());
    }
    /** After a job's saves: prune to the configured limits and record the run's hits. A failure is a warning. */
    async maintain(entries) {
        await lib_core/* group */.Os('Prune local store', async () => {
            try {
                const pruned = await this.prune(this.pruning);
                const files = pruned.files.length > 0 ? ` and ${pruned.files.length} in-place file(s)` : '';
                this.log(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${files}, ${formatBytes(pruned.bytes)}`);
                if (pruned.busyKinds.length > 0)
                    this.log(`In use by another job, not pruned: ${pruned.busyKinds.join(', ')}`);
            }
            catch (error) {
                lib_core/* warning */.$e(`Pruning the local store failed: ${stringifyError(error)}`);
            }
        });
        await appendHistory(this.root, entries).catch(error => lib_core/* warning */.$e(`Could not append to the store's run history: ${stringifyError(error)}`));
    }
    /** Documents are files beside the entries: one per key, replaced atomically (the run history is a few KB). */
    documents = {
        read: async (key) => ((await readJson(this.documentFile(key))) ?? { document: null }).document,
        write: async (key, document) => {
            await this.makeDir(this.documentsDir);
            await atomic_writeFileAtomic(this.documentFile(key), JSON.stringify({ key, document }));
        }
    };
    /** Documents nobody wrote for longer than maxAgeMs: the history of a branch that is gone. */
    async sweepDocuments(maxAgeMs, dryRun) {
        if (maxAgeMs === undefined)
            return [];
        const stale = await oldFiles(await listDir(this.documentsDir), this.clock() - maxAgeMs);
        if (!dryRun)
            await Promise.all(stale.map(file => promises_.rm(file.file, { force: true })));
        return stale;
    }
    get documentsDir() {
        return external_node_path_.join(this.root, 'documents');
    }
    documentFile(key) {
        return external_node_path_.join(this.documentsDir, `${sha256(key)}.json`);
    }
    /** Runs work holding the store-wide prune lock, so two prunes never race each other. */
    async withPruneLock(work) {
        await this.makeDir(this.locksDir);
        return withLock(external_node_path_.join(this.locksDir, 'prune'), work);
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
        await this.makeDir(this.locksDir);
        return withLock(external_node_path_.join(this.locksDir, `${version}-${keyHash}`), work);
    }
    /**
     * mkdir -p, giving every directory it creates the root's permission bits and fsyncing each new entry
     * into its parent. The root itself is created with the process's defaults.
     */
    async makeDir(dir) {
        if (this.rootMode === undefined) {
            await promises_.mkdir(this.root, { recursive: true });
            this.rootMode = (await promises_.stat(this.root)).mode & 0o7777;
        }
        const firstCreated = await promises_.mkdir(dir, { recursive: true });
        if (firstCreated === undefined)
            return;
        for (let created = dir; created.length >= firstCreated.length; created = external_node_path_.dirname(created)) {
            await promises_.chmod(created, this.rootMode);
            await syncPath(external_node_path_.dirname(created));
        }
    }
    /** GitHub's rule (lookUpEntry); the entries of the version are read once, for all the restore keys. */
    async lookup(version, key, restoreKeys) {
        let candidates;
        return lookUpEntry(key, restoreKeys, exact => readMeta(this.entryDir(version, sha256(exact)), exact), async (prefix) => {
            candidates ??= this.storedEntries(version).then(entries => entries.map(({ meta }) => meta));
            const matches = (await candidates).filter(meta => meta.key.startsWith(prefix));
            return matches.length > 0 ? newest(matches) : undefined;
        });
    }
    /**
     * After a miss: the newest entry of this key (or one of its revisions) stored under another version,
     * and what of its identity differs from the one looked for.
     */
    async otherIdentity(wanted, key) {
        const version = versionOf(wanted);
        const others = (await this.storedEntries()).filter(({ meta }) => meta.version !== version && isKeyOrRevision(meta.key, key));
        return otherIdentityNote(others.map(({ meta }) => meta), wanted);
    }
    /**
     * Reads meta.json and opens every archive under the entry lock: a concurrent publish or prune
     * may unlink the names afterwards, but open descriptors keep the inodes we are about to verify.
     * A store this user cannot write (another user's, or read-only) is read without the lock.
     */
    async openEntry(version, key) {
        const keyHash = sha256(key);
        const dir = this.entryDir(version, keyHash);
        const open = async () => {
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
        };
        try {
            return await this.withEntryLock(version, keyHash, open);
        }
        catch (error) {
            if (isReadOnlyError(error))
                return open();
            throw error;
        }
    }
    /** Best effort: a store this user may only read still restores, it just does not record the use. */
    async markUsed(version, restored) {
        const keyHash = sha256(restored.key);
        const dir = this.entryDir(version, keyHash);
        try {
            await this.withEntryLock(version, keyHash, async () => {
                const current = await readMeta(dir, restored.key);
                // A save replaced the entry while we extracted: its own lastUsed is newer anyway.
                if (current?.saveId !== restored.saveId)
                    return;
                await atomic_writeFileAtomic(external_node_path_.join(dir, META_FILE), JSON.stringify({ ...current, lastUsed: this.clock() }));
            });
        }
        catch (error) {
            if (!isReadOnlyError(error))
                throw error;
            this.log(`Could not record the use of ${restored.key} (the store is not writable by this user): ${error.message}`);
        }
    }
    /** Archives one part into a temp file in the store, hashing the bytes on their way to disk. */
    async stagePart(part, kind, exclude, file) {
        if (kind === 'missing')
            return { part: { name: part.name, kind }, temp: null };
        const temp = external_node_path_.join(this.tmpDir, `${file}.${external_node_crypto_.randomBytes(4).toString('hex')}.tmp`);
        try {
            const { sha256: digest, bytes } = await writeArchive(tarCreateArgs(part.path, kind, exclude), temp);
            return { part: { name: part.name, kind, file, sha256: digest, bytes }, temp };
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
            await this.makeDir(dir);
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
            return `archive for ${part.name} is missing`;
        try {
            // One byte more than recorded, so an archive that grew is caught too.
            const { digests, bytesRead } = await digestFile({ fd: handle.fd }, part.bytes + 1, [{ algorithm: 'sha256' }]);
            if (bytesRead !== part.bytes)
                return `archive for ${part.name} is ${bytesRead} bytes, ${part.bytes} were written`;
            if (digests[0] !== part.sha256)
                return `archive for ${part.name} does not match its SHA-256`;
        }
        finally {
            await handle.close();
        }
    }
    return null;
}
function newest(metas) {
    return metas.reduce((latest, meta) => (meta.created > latest.created ? meta : latest));
}
function corrupt(key, detail) {
    return new Error(`local cache entry "${key}" is corrupt: ${detail}`);
}
/**
 * The entry's meta.json, null when there is none. The store is writable by other jobs, so
 * everything later used as a file name or extraction plan is checked (entry-meta.ts). Format 1 parts,
 * named by the absolute path they were saved from, are read under that name.
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
    const problem = metaProblem(meta, external_node_path_.basename(dir), external_node_path_.basename(external_node_path_.dirname(dir)));
    if (problem)
        throw corrupt(label, problem);
    if (meta.format === 1)
        meta.parts = meta.parts.map(part => ({ ...part, name: part.name ?? part.path ?? '?' }));
    return meta;
}
async function openArchive(dir, part, key) {
    try {
        return await promises_.open(external_node_path_.join(dir, part.file), 'r');
    }
    catch (error) {
        throw corrupt(key, `archive for ${part.name} cannot be opened: ${error.message}`);
    }
}
/**
 * Extracts one part into staging; the caller moves the result into place only once every part extracted.
 * Nothing hashes the archive on the way: zstd checks the content against the frame's checksum as it
 * decompresses (archive.ts), so a flipped byte or a cut-off archive fails the extraction and never
 * touches the target, and the size recorded at save catches an archive that was cut or grew. An archive
 * whose frame carries no checksum (not one qdc wrote) is checked against its SHA-256 first, as before.
 * The SHA-256 stays for `qdc verify`, which reads the archives without extracting them.
 */
async function extractPart(handle, part, target, key, onProgress) {
    if (part.kind === 'missing' || !handle)
        return null;
    const { size } = await handle.stat();
    if (size !== part.bytes)
        throw corrupt(key, `archive for ${part.name} is ${size} bytes, ${part.bytes} were written`);
    if (!(await hasContentChecksum(handle)))
        await checkSha256(handle, part, key);
    const following = followReads(handle.fd, onProgress);
    try {
        return await extractToStaging(handle.fd, part.kind, target.path);
    }
    catch (error) {
        if (error instanceof CorruptArchiveError)
            throw corrupt(key, `archive for ${part.name} ${error.message}`);
        throw new Error(`local cache entry "${key}" was not restored into ${target.path}: ${error.message}`, { cause: error });
    }
    finally {
        following.stop();
    }
}
/** zstd's frame magic number, little-endian, then the frame header descriptor; bit 2: content checksum. */
const ZSTD_MAGIC = 0xfd2fb528;
const CONTENT_CHECKSUM_FLAG = 0b100;
/** True when the archive's first zstd frame carries a checksum of its content. Reads at offset 0 without moving it. */
async function hasContentChecksum(handle) {
    const header = Buffer.alloc(5);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return bytesRead === header.length && header.readUInt32LE(0) === ZSTD_MAGIC && (header[4] & CONTENT_CHECKSUM_FLAG) !== 0;
}
async function checkSha256(handle, part, key) {
    // Positioned reads leave the descriptor's offset at 0 for zstd, which reads the same open file.
    const { digests } = await digestFile({ fd: handle.fd }, part.bytes, [{ algorithm: 'sha256' }]);
    if (digests[0] !== part.sha256)
        throw corrupt(key, `archive for ${part.name} does not match its SHA-256`);
}
/**
 * Reports how far zstd has read the archive: it reads through a copy of our descriptor, which shares the
 * file offset, and Linux shows that offset in /proc/self/fdinfo. Elsewhere there is simply no progress.
 */
function followReads(fd, onProgress) {
    let reported = 0;
    const timer = setInterval(() => {
        const position = fileOffset(fd);
        if (position === null || position <= reported)
            return;
        onProgress(position - reported);
        reported = position;
    }, Math.min(progressIntervalMs(), 1000));
    timer.unref();
    return { stop: () => clearInterval(timer) };
}
function fileOffset(fd) {
    try {
        const match = /^pos:\s*(\d+)/m.exec((0,external_node_fs_.readFileSync)(`/proc/self/fdinfo/${fd}`, 'utf8'));
        return match ? Number(match[1]) : null;
    }
    catch {
        return null;
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

;// CONCATENATED MODULE: ./src/util/limit.ts
/** Runs at most `max` of the works handed to it at once; the others start in the order they came. */
function limiter(max) {
    let running = 0;
    const waiting = [];
    return async (work) => {
        if (running < max)
            running++;
        // A finishing work hands its slot straight to the next one, so `running` stays as it is.
        else
            await new Promise(resolve => waiting.push(resolve));
        try {
            return await work();
        }
        finally {
            const next = waiting.shift();
            if (next)
                next();
            else
                running--;
        }
    };
}
/** Runs `work` over `items`, at most `max` at a time; the first failure is thrown once all have settled. */
async function forEachLimited(items, max, work) {
    const limited = limiter(max);
    const outcomes = await Promise.allSettled(items.map(item => limited(() => work(item))));
    const failed = outcomes.find(outcome => outcome.status === 'rejected');
    if (failed)
        throw failed.reason;
}

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(7067);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(4708);
;// CONCATENATED MODULE: ./src/backends/s3/faults.ts
/*
 * What went wrong talking to an S3 server, in the terms a person acts on. Errors are classified by what is
 * really on them: the HTTP status in `$metadata` (a HeadObject error has no body, so the SDK names a 403
 * "Unknown"; radosgw's messages are often just "UnknownError"), the S3 error code, and for connection
 * errors the Node code or, failing that, the message: under jest the SDK flattens Node's errors from
 * another realm into `Error('AWS SDK error wrapper for Error: connect ECONNREFUSED …')`, losing `code`
 * (aws-sdk-js-v3 #4273).
 */
/** An S3 call that failed: one line saying which call, on what, and why. */
class S3Fault extends Error {
    kind;
    status;
    reason;
    constructor(kind, message, status, 
    /** Why, without which call: what a message about another step reuses. */
    reason = message) {
        super(message);
        this.kind = kind;
        this.status = status;
        this.reason = reason;
        this.name = 'S3Fault';
    }
}
/** Stall errors of the SDK's socket timeout, and our own watchdog's. */
const STALL = /timed out after \d+ ?ms|of inactivity|TimeoutError|no bytes? for \d/i;
const CONNECTION = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED|socket hang up|premature close|aborted|other side closed/i;
const CONNECTION_CODES = [
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EPIPE',
    'ECONNABORTED',
    'ERR_STREAM_PREMATURE_CLOSE'
];
function statusOf(error) {
    return error?.$metadata?.httpStatusCode;
}
/** The S3 error code (`AccessDenied`, `NoSuchBucket`, `SlowDown`), or the error's name. */
function codeOf(error) {
    const shaped = (error ?? {});
    for (const candidate of [shaped.Code, shaped.code, shaped.name])
        if (typeof candidate === 'string' && candidate !== '')
            return candidate;
    return 'Error';
}
function messageOf(error) {
    const text = error?.message;
    return typeof text === 'string' ? text : String(error);
}
function faultKind(error) {
    if (error instanceof S3Fault)
        return error.kind;
    const status = statusOf(error);
    const code = codeOf(error);
    const message = messageOf(error);
    if (status === 403)
        return 'access-denied';
    if (code === 'NoSuchBucket')
        return 'no-bucket';
    if (status === 404)
        return 'not-found';
    if (status === 412)
        return 'precondition';
    if (status === 416)
        return 'range';
    if (status === 429 || ['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'RequestLimitExceeded'].includes(code))
        return 'throttled';
    if (status !== undefined && status >= 500)
        return 'server';
    if (code === 'TimeoutError' || STALL.test(message))
        return 'stalled';
    if (CONNECTION_CODES.includes(code) || CONNECTION.test(message))
        return 'connection';
    if (code === 'CredentialsProviderError' || /Could not load credentials|Region is missing/i.test(message))
        return 'setup';
    return 'other';
}
/** Why, in a few words: `access denied (403 AccessDenied)`, `connect ECONNREFUSED 127.0.0.1:7480`. */
function reasonOf(error) {
    if (error instanceof S3Fault)
        return error.reason;
    const kind = faultKind(error);
    const status = statusOf(error);
    const code = codeOf(error);
    const detail = status === undefined ? code : `${status} ${code}`;
    const message = faults_firstLine(messageOf(error)).replace(/^AWS SDK error wrapper for Error: /, '');
    switch (kind) {
        case 'access-denied':
            return `access denied (${detail})`;
        case 'no-bucket':
            return `the bucket does not exist (${detail})`;
        case 'not-found':
            return `not found (${detail})`;
        case 'precondition':
            return `it exists already (${detail})`;
        case 'range':
            return `the object is shorter than its manifest says (${detail})`;
        case 'throttled':
            return `the server kept throttling requests after backing off (${detail})`;
        case 'server':
            return `server error (${detail})${usefulMessage(message, code)}`;
        case 'stalled':
            return `the connection stalled: ${message}`;
        case 'connection':
            return `cannot reach the server: ${message}`;
        case 'setup':
            return /credentials/i.test(message)
                ? 'no AWS credentials: the SDK found none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (aws-actions/configure-aws-credentials sets them), AWS_PROFILE, web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN) or instance metadata'
                : `the SDK has no region: set s3-region or AWS_REGION`;
        default:
            return `${message}${status === undefined ? '' : ` (${detail})`}`;
    }
}
/** Wraps anything an SDK call threw as an S3Fault that names the call. */
function faultOf(error, what) {
    if (error instanceof S3Fault)
        return error;
    const reason = reasonOf(error);
    return new S3Fault(faultKind(error), `${what}: ${reason}`, statusOf(error), reason);
}
/** Worth another try at our level (a range, a listing page): what broke was the connection, not the request. */
function isTransient(error) {
    return ['stalled', 'connection', 'server', 'throttled'].includes(faultKind(error));
}
function usefulMessage(message, code) {
    return message && message !== code && message !== 'UnknownError' ? `: ${message}` : '';
}
function faults_firstLine(text) {
    return text.split('\n')[0].trim();
}

;// CONCATENATED MODULE: ./src/backends/s3/client.ts



/**
 * Attempts per request, the first included. The SDK's standard strategy backs off exponentially with jitter
 * (a throttling error such as 503 SlowDown from a 1 s base), so five attempts ride out a short burst of
 * throttling or 5xx; a stall is bounded separately, by the StallGuard.
 */
const MAX_ATTEMPTS = 5;
/** Connections per host: the parallel parts and ranges of a transfer, plus the small calls beside them. */
const MAX_SOCKETS = 16;
/**
 * Loaded on first use: the SDK takes a moment to load, which runs on the other backends should not pay for
 * (the bundle keeps it in a chunk of its own).
 */
async function loadSdk() {
    const [sdk, storage] = await Promise.all([__webpack_require__.e(/* import() */ 711).then(__webpack_require__.t.bind(__webpack_require__, 3711, 19)), Promise.all(/* import() */[__webpack_require__.e(711), __webpack_require__.e(358)]).then(__webpack_require__.t.bind(__webpack_require__, 2358, 19))]);
    return { sdk, storage };
}
/**
 * The client as S3-compatible servers need it: checksums only where an operation requires them (from SDK
 * 3.729 on, the default sends aws-chunked CRC32 bodies that radosgw and others answer with 411), path-style
 * addressing when asked for, the socket's idle timeout as s3-idle-timeout, and the credentials from the
 * SDK's default chain (env, profiles, SSO, web identity, instance metadata): never from an input.
 */
function clientConfig(settings) {
    const region = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (settings.endpoint ? 'us-east-1' : undefined);
    const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
    return {
        ...(region ? { region } : {}),
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        forcePathStyle: settings.forcePathStyle,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: MAX_ATTEMPTS,
        requestHandler: {
            connectionTimeout: settings.idleTimeoutMs,
            socketTimeout: settings.idleTimeoutMs,
            httpAgent: new external_node_http_.Agent(agent),
            httpsAgent: new external_node_https_.Agent(agent)
        }
    };
}
/**
 * A stalled connection (no byte for s3-idle-timeout) is aborted by the socket's idle timeout and retried
 * once; when the same call (or range) stalls again the endpoint counts as stalled: every call in flight is
 * aborted and every later one fails at once, so a hung server costs a job about twice the idle timeout,
 * never minutes per part, range or cache kind.
 *
 * It sees every attempt of every SDK call: it wraps the client's request handler, and an attempt's call is
 * the `amz-sdk-invocation-id` header, the same on all attempts of one call. Body stalls of a download, after
 * the SDK has handed back the response, are reported through `bodyStalled`.
 */
class StallGuard {
    idleTimeoutMs;
    controller = new AbortController();
    stalledOnce = new Set();
    fault = null;
    constructor(idleTimeoutMs) {
        this.idleTimeoutMs = idleTimeoutMs;
    }
    /** Aborts when the endpoint has stalled twice: what every request and stream of the store listens to. */
    get signal() {
        return this.controller.signal;
    }
    /** The fault once tripped: later calls fail with it at once. */
    get tripped() {
        return this.fault;
    }
    assertOpen() {
        if (this.fault)
            throw this.fault;
    }
    /**
     * Wraps the client's handler (the SDK reads `config.requestHandler` at each send): the wrapper is the
     * handler with `handle` overridden, so everything else (destroy, its configuration) is the handler's own.
     */
    install(client) {
        const inner = client.config.requestHandler;
        const handle = (request, options) => this.attempt(inner, request, options);
        client.config.requestHandler = Object.create(inner, { handle: { value: handle } });
    }
    /** True when a stalled body may be fetched again; false (and tripped) when `what` stalled before. */
    bodyStalled(what) {
        return this.stalled(`body:${what}`);
    }
    async attempt(inner, request, options) {
        this.assertOpen();
        const { abortSignal: given } = (options ?? {});
        const signals = given ? [this.controller.signal, given] : [this.controller.signal];
        try {
            return await inner.handle(request, { ...options, abortSignal: AbortSignal.any(signals) });
        }
        catch (error) {
            this.assertOpen();
            const call = request.headers?.['amz-sdk-invocation-id'] ?? '';
            // The first stall goes back to the SDK, which retries a TimeoutError; a second one ends it all.
            if (faultKind(error) === 'stalled' && !this.stalled(`call:${call}`))
                throw this.fault;
            throw error;
        }
    }
    stalled(id) {
        if (this.fault)
            return false;
        if (!this.stalledOnce.has(id)) {
            this.stalledOnce.add(id);
            return true;
        }
        this.fault = new S3Fault('stalled', `the endpoint stalled: no byte for ${this.idleTimeoutMs / 1000} s (s3-idle-timeout), twice; not trying it again in this step`);
        this.controller.abort(this.fault);
        return false;
    }
}
/** The calls that carry an archive's bytes. */
const ARCHIVE_UPLOADS = new Set(['UploadPartCommand', 'PutObjectCommand']);
/**
 * Archive bodies go up with `x-amz-content-sha256: UNSIGNED-PAYLOAD` (a SigV4 mode every S3 server takes):
 * otherwise the signer hashes every part on the main thread, a second SHA-256 pass over the archive beside
 * the one the manifest records, and that one is checked on every download anyway.
 */
function skipPayloadHashing(client) {
    client.middlewareStack.add((next, context) => async (args) => {
        const request = args.request;
        if (context.commandName && ARCHIVE_UPLOADS.has(context.commandName) && request.headers)
            request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
    }, { step: 'build', name: 'qdcUnsignedArchivePayload' });
}
/** Masks the credentials the SDK resolved (a profile's or web identity's are in no variable main masked). */
async function maskResolvedCredentials(client, mask, masked) {
    const credentials = await client.config.credentials();
    for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]) {
        if (secret && !masked.has(secret)) {
            masked.add(secret);
            mask(secret);
        }
    }
}

;// CONCATENATED MODULE: ./src/backends/s3/bucket.ts



/*
 * The bucket's objects, one SDK call each: what the fleet store (store.ts) builds its entries from. Every
 * call waits for the credentials to be resolved and masked, and every failure leaves as an S3Fault naming
 * what was being done, or as the stall that ended the store's use of the connection.
 */
/** Small calls in flight at once when many objects are read or removed (stats, prune, verify). */
const SMALL_CALLS = 16;
class Bucket {
    settings;
    mask;
    masked = new Set();
    connection;
    constructor(settings, 
    /** Masks a secret before anything can log it. */
    mask) {
        this.settings = settings;
        this.mask = mask;
    }
    /** The SDK client built from the settings (tests watch its requests). */
    async client() {
        return (await this.connect()).s3;
    }
    /** Lets the process exit: the client's keep-alive sockets would hold it. */
    async close() {
        if (this.connection)
            (await this.connection.catch(() => null))?.s3.destroy();
        this.connection = undefined;
    }
    connect() {
        this.connection ??= loadSdk().then(({ sdk, storage }) => {
            const s3 = new sdk.S3Client(clientConfig(this.settings));
            const guard = new StallGuard(this.settings.idleTimeoutMs);
            guard.install(s3);
            skipPayloadHashing(s3);
            return { s3, sdk, storage, guard };
        });
        return this.connection;
    }
    /** The connection, with the credentials resolved and masked before any call can log anything. */
    async ready() {
        const connection = await this.connect();
        connection.guard.assertOpen();
        try {
            await maskResolvedCredentials(connection.s3, this.mask, this.masked);
        }
        catch (error) {
            throw faultOf(error, 'resolving the AWS credentials');
        }
        return connection;
    }
    /** An SDK call; whatever it throws becomes an S3Fault naming `what`, or the stall that ended everything. */
    async call(what, run) {
        const connection = await this.ready();
        try {
            return await run(connection);
        }
        catch (error) {
            throw connection.guard.tripped ?? faultOf(error, what);
        }
    }
    /** The object's content, null when there is none (404). */
    async getText(name, what) {
        try {
            return await this.call(what, async ({ s3, sdk }) => {
                const got = await s3.send(new sdk.GetObjectCommand({ Bucket: this.settings.bucket, Key: name }));
                return got.Body.transformToString();
            });
        }
        catch (error) {
            if (faultKind(error) === 'not-found')
                return null;
            throw error;
        }
    }
    async exists(name, what) {
        try {
            await this.call(what, ({ s3, sdk }) => s3.send(new sdk.HeadObjectCommand({ Bucket: this.settings.bucket, Key: name })));
            return true;
        }
        catch (error) {
            if (faultKind(error) === 'not-found')
                return false;
            throw error;
        }
    }
    async put(name, body, what, createOnly = false) {
        await this.call(what, ({ s3, sdk }) => s3.send(new sdk.PutObjectCommand({
            Bucket: this.settings.bucket,
            Key: name,
            Body: Buffer.from(body),
            ContentType: body === '' ? undefined : 'application/json',
            ...(createOnly ? { IfNoneMatch: '*' } : {})
        })));
    }
    /** Deleting what is not there succeeds (204), as S3 has it. */
    async delete(name) {
        await this.call(`deleting ${name}`, ({ s3, sdk }) => s3.send(new sdk.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: name })));
    }
    /** One DeleteObject per name, several at once: DeleteObjects needs a Content-MD5 that not every server takes. */
    async removeObjects(names) {
        await forEachLimited(names, SMALL_CALLS, name => this.delete(name));
    }
    /** Every object whose name starts with `prefix`, page after page (a page holds at most 1000). */
    async *list(prefix) {
        let token;
        do {
            const page = await this.call(`listing ${prefix}`, ({ s3, sdk }) => s3.send(new sdk.ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token })));
            for (const object of page.Contents ?? []) {
                if (object.Key)
                    yield { name: object.Key, size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? 0 };
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
    }
    async staleUploads(prefix, cutoff) {
        const stale = [];
        let keyMarker;
        let uploadIdMarker;
        do {
            const page = await this.call(`listing the multipart uploads below ${prefix}`, ({ s3, sdk }) => s3.send(new sdk.ListMultipartUploadsCommand({
                Bucket: this.settings.bucket,
                Prefix: prefix,
                KeyMarker: keyMarker,
                UploadIdMarker: uploadIdMarker
            })));
            for (const upload of page.Uploads ?? []) {
                const modified = upload.Initiated?.getTime() ?? 0;
                if (upload.Key && upload.UploadId && modified < cutoff)
                    stale.push({ name: upload.Key, uploadId: upload.UploadId, modified });
            }
            keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
            uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
        } while (keyMarker);
        return stale;
    }
    async abortUpload(name, uploadId) {
        await this.call(`aborting the upload of ${name}`, ({ s3, sdk }) => s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: name, UploadId: uploadId })));
    }
}

;// CONCATENATED MODULE: ./src/backends/s3/download.ts




/** Further attempts for a range whose body broke off (reset, cut short); a stalled body gets one (StallGuard). */
const RANGE_RETRIES = 2;
const RETRY_DELAY_MS = 250;
/** One range's bytes as they arrive, until the reader takes them. */
class RangeFetch {
    first;
    last;
    /** Received and not yet handed on. */
    chunks = [];
    received = 0;
    done = false;
    error = undefined;
    wake = null;
    constructor(first, last) {
        this.first = first;
        this.last = last;
    }
    get length() {
        return this.last - this.first + 1;
    }
    notify() {
        this.wake?.();
        this.wake = null;
    }
    /** Resolves at the next chunk, the end, or a failure. */
    next() {
        return new Promise(resolve => (this.wake = resolve));
    }
}
/**
 * One object's bytes, in order, over parallel ranged GETs: `concurrency` ranges stream at once, each on its
 * own connection. The earliest one's bytes are handed on as they arrive; the others keep theirs until it
 * is their turn, so the reader (tar, the hash) sees one steady stream and no more than `concurrency` ranges
 * sit in memory. Every response must say the object is `size` bytes long (Content-Range): an object that
 * is shorter, longer or replaced is an ArchiveMismatch, never extracted. A range whose connection breaks
 * resumes where it stopped; stopping early (`return`) aborts what is in flight.
 */
async function* objectChunks(context, name, size, plan) {
    const count = Math.max(1, Math.ceil(size / plan.rangeSize));
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, context.guard.signal]);
    const fetches = new Map();
    const start = (index) => {
        const fetch = new RangeFetch(index * plan.rangeSize, Math.min(size, (index + 1) * plan.rangeSize) - 1);
        fetches.set(index, fetch);
        void fillRange(context, name, size, fetch, signal);
    };
    try {
        for (let index = 0; index < Math.min(count, plan.concurrency); index++)
            start(index);
        for (let index = 0; index < count; index++) {
            const fetch = fetches.get(index);
            for (;;) {
                // Chunks that arrived while the reader was busy come first, also when the range has ended since.
                if (fetch.chunks.length > 0) {
                    const ready = fetch.chunks;
                    fetch.chunks = [];
                    for (const chunk of ready)
                        yield chunk;
                    continue;
                }
                if (fetch.error !== undefined)
                    throw fetch.error;
                if (fetch.done)
                    break;
                await fetch.next();
            }
            fetches.delete(index);
            if (index + plan.concurrency < count)
                start(index + plan.concurrency);
        }
    }
    finally {
        stop.abort();
    }
}
/** Streams `fetch`'s range into it, resuming after a broken connection; never throws (the reader sees `error`). */
async function fillRange(context, name, size, fetch, signal) {
    for (let attempt = 0;; attempt++) {
        const from = fetch.first + fetch.received;
        try {
            await streamRange(context, name, size, from, fetch, signal);
            if (fetch.received !== fetch.length)
                throw new S3Fault('connection', `${name}: the response ended after ${fetch.received} of ${fetch.length} bytes`);
            fetch.done = true;
            break;
        }
        catch (error) {
            const what = `GetObject ${name} bytes ${from}-${fetch.last}`;
            if (signal.aborted) {
                fetch.error = signal.reason instanceof S3Fault ? signal.reason : faultOf(error, what);
                break;
            }
            if (error instanceof ArchiveMismatch || !isTransient(error) || attempt >= RANGE_RETRIES) {
                fetch.error = error instanceof ArchiveMismatch ? error : faultOf(error, what);
                break;
            }
            // A stalled body is retried once; a second stall trips the guard, which aborts every transfer.
            if (faultKind(error) === 'stalled' && !context.guard.bodyStalled(`${name}:${fetch.first}`)) {
                fetch.error = context.guard.tripped ?? faultOf(error, what);
                break;
            }
            await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS * (attempt + 1)));
        }
    }
    fetch.notify();
}
async function streamRange(context, name, size, from, fetch, signal) {
    let response;
    try {
        response = await context.s3.send(new context.sdk.GetObjectCommand({ Bucket: context.bucket, Key: name, Range: `bytes=${from}-${fetch.last}` }), { abortSignal: signal });
    }
    catch (error) {
        // A range that starts beyond the end: the object is shorter than the manifest says.
        if (faultKind(error) === 'range')
            throw new ArchiveMismatch(`is shorter than the ${size} bytes that were written`);
        throw error;
    }
    const body = response.Body;
    const total = totalSize(response.ContentRange, response.ContentLength, from);
    if (total !== size) {
        body.destroy();
        throw new ArchiveMismatch(`is ${total ?? 'an unknown number of'} bytes, ${size} were written`);
    }
    // 'data' events rather than an async iterator, which costs a promise per socket read (measurably slower).
    await new Promise((resolve, reject) => {
        body.on('data', (chunk) => {
            fetch.chunks.push(chunk);
            fetch.received += chunk.length;
            fetch.notify();
        });
        body.once('error', reject);
        body.once('end', resolve);
    });
}
/**
 * The object's size from `Content-Range: bytes a-b/total`; a server that ignored the range and sent the whole
 * object (no Content-Range) is taken at its Content-Length only when the range started at 0 anyway.
 */
function totalSize(contentRange, contentLength, first) {
    const total = /\/(\d+)\s*$/.exec(contentRange ?? '')?.[1];
    if (total !== undefined)
        return Number(total);
    return first === 0 ? contentLength : undefined;
}
/**
 * The digest of an object's bytes, hashed on a worker thread as they come; `sink` gets every chunk after it
 * was handed to the hasher, and is awaited (backpressure).
 */
async function digestChunks(chunks, sink = () => undefined, onProgress = () => undefined) {
    const digest = new CopyingDigest([{ algorithm: 'sha256' }]);
    try {
        let bytes = 0;
        for await (const chunk of chunks) {
            digest.update(chunk);
            bytes += chunk.length;
            await sink(chunk);
            onProgress(chunk.length);
        }
        return { sha256: (await digest.digests())[0], bytes };
    }
    finally {
        digest.close();
    }
}
/**
 * An object's bytes as a stream (for tar) and their digest. When the reader gives up early (tar refused the
 * archive), the rest is still read and hashed, so that a corrupt archive is reported as one, not as tar's
 * complaint about it.
 */
function verifiedObjectStream(chunks, onProgress) {
    const stream = new external_node_stream_.PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    const write = (chunk) => (stream.destroyed || stream.write(chunk) ? undefined : drained(stream));
    const hashed = digestChunks(chunks, write, onProgress).then(digest => (stream.end(), digest), (error) => {
        // Cut short, not failed: `hashed` carries the reason, and nobody may be listening for 'error' yet.
        stream.destroy();
        throw error;
    });
    return { stream, hashed };
}
/** Resolves when the stream wants more, or is gone (its reader stopped). */
function drained(stream) {
    return new Promise(resolve => {
        const done = () => {
            stream.off('drain', done);
            stream.off('close', done);
            resolve();
        };
        stream.once('drain', done);
        stream.once('close', done);
    });
}

;// CONCATENATED MODULE: ./src/backends/s3/layout.ts
/*
 * Object layout of the s3 store, below the `s3-prefix`:
 *
 *   manifests/<key>/<version>                    the commit point of an entry: its manifest (entry-meta.ts), created once
 *   archives/<key>/<version>/<saveId>-<i>.tar.zst one archive per part (archive.ts), under the save's random id
 *   used/<key>/<version>                         empty; its LastModified is the entry's last restore
 *   documents/<sha256 of the key>.json           a small JSON document replaced whole (the run history)
 *
 * <key> is the cache key with every byte outside [A-Za-z0-9._-] written `!XX`. The encoding is a prefix code,
 * so a restore key's encoding is a prefix of the encoding of every key it prefixes: ListObjectsV2 with
 * `Prefix=manifests/<encoded restore key>` makes the server return exactly the candidates of a lookup,
 * key and LastModified in the listing, and nothing else is read until the newest is chosen. The key comes
 * before the version so that the same listing also finds the key under other identities (to explain a
 * miss). `!` needs no escaping in a URL path that a proxy might decode, unlike `%`.
 */

/** S3's limit for an object name, in UTF-8 bytes. */
const MAX_NAME_BYTES = 1024;
const SAFE = /^[A-Za-z0-9._-]$/;
const ESCAPE = '!';
const VERSION = /^[0-9a-f]{64}$/;
const ARCHIVE_FILE = /^([0-9a-f]{16})-\d+\.tar\.zst$/;
/** The longest name the layout makes for a key: an archive's, `archives/<key>/<version>/<saveId>-<i>.tar.zst`. */
const ARCHIVE_OVERHEAD = 'archives/'.length + 1 + 64 + 1 + 16 + 1 + 6 + '.tar.zst'.length;
function encodeKey(key) {
    let encoded = '';
    for (const char of key) {
        if (SAFE.test(char))
            encoded += char;
        else
            for (const byte of Buffer.from(char, 'utf8'))
                encoded += ESCAPE + byte.toString(16).toUpperCase().padStart(2, '0');
    }
    return encoded;
}
/** null when `encoded` is not something encodeKey makes. */
function decodeKey(encoded) {
    const bytes = [];
    for (let i = 0; i < encoded.length;) {
        if (encoded[i] === ESCAPE) {
            const hex = encoded.slice(i + 1, i + 3);
            if (!/^[0-9A-F]{2}$/.test(hex))
                return null;
            bytes.push(parseInt(hex, 16));
            i += 3;
        }
        else if (SAFE.test(encoded[i])) {
            bytes.push(encoded.charCodeAt(i));
            i += 1;
        }
        else {
            return null;
        }
    }
    const key = Buffer.from(bytes).toString('utf8');
    // Not the one encoding of its key (invalid UTF-8, a safe character escaped): not ours.
    return encodeKey(key) === encoded ? key : null;
}
class S3Layout {
    prefix;
    constructor(prefix) {
        this.prefix = prefix;
    }
    get manifestsRoot() {
        return `${this.prefix}manifests/`;
    }
    get archivesRoot() {
        return `${this.prefix}archives/`;
    }
    get usedRoot() {
        return `${this.prefix}used/`;
    }
    get documentsRoot() {
        return `${this.prefix}documents/`;
    }
    /** Hashed: a document's key may be longer than an object name allows, and is never listed by prefix. */
    document(key) {
        return `${this.documentsRoot}${(0,external_node_crypto_.createHash)('sha256').update(key).digest('hex')}.json`;
    }
    manifest(key, version) {
        return `${this.manifestsRoot}${encodeKey(key)}/${version}`;
    }
    /** Where the manifests of every key starting with `keyPrefix` are listed, in every version. */
    manifestsStartingWith(keyPrefix) {
        return `${this.manifestsRoot}${encodeKey(keyPrefix)}`;
    }
    archive(key, version, file) {
        return `${this.archivesRoot}${encodeKey(key)}/${version}/${file}`;
    }
    used(key, version) {
        return `${this.usedRoot}${encodeKey(key)}/${version}`;
    }
    /** Why the store cannot hold `key`, or null: S3 names are at most 1024 bytes. */
    keyProblem(key) {
        const longest = Buffer.byteLength(this.prefix) + encodeKey(key).length + ARCHIVE_OVERHEAD;
        return longest > MAX_NAME_BYTES
            ? `the key is too long for an S3 object name once encoded (${longest} of at most ${MAX_NAME_BYTES} bytes)`
            : null;
    }
    parseManifest(name) {
        return this.parseEntry(name, this.manifestsRoot);
    }
    parseUsed(name) {
        return this.parseEntry(name, this.usedRoot);
    }
    parseArchive(name) {
        if (!name.startsWith(this.archivesRoot))
            return null;
        const segments = name.slice(this.archivesRoot.length).split('/');
        if (segments.length !== 3)
            return null;
        const [encoded, version, file] = segments;
        const key = decodeKey(encoded);
        const saveId = ARCHIVE_FILE.exec(file)?.[1];
        if (key === null || !VERSION.test(version) || saveId === undefined)
            return null;
        return { key, version, file, saveId };
    }
    /** `<root><key>/<version>`: anything else below the root (another tool's objects) is not an entry. */
    parseEntry(name, root) {
        if (!name.startsWith(root))
            return null;
        const segments = name.slice(root.length).split('/');
        if (segments.length !== 2)
            return null;
        const key = decodeKey(segments[0]);
        return key === null || !VERSION.test(segments[1]) ? null : { key, version: segments[1] };
    }
}

;// CONCATENATED MODULE: ./src/backends/s3/upload.ts


/**
 * Streams tar's output into one object while a worker hashes it: one PutObject when it fits in a part, else
 * a multipart upload of parallel parts (lib-storage). No temp file: the archive goes up as tar makes it.
 * A failed upload is aborted by lib-storage (AbortMultipartUpload), so no half-uploaded object stays billed;
 * one that cannot even be aborted (the endpoint went away) is left to the store's orphan sweep and the
 * bucket's lifecycle rule.
 */
async function uploadArchive(context, name, tar, plan, onProgress) {
    const digest = new CopyingDigest([{ algorithm: 'sha256' }]);
    let bytes = 0;
    const body = external_node_stream_.Readable.from(hashedOutput(tar, digest, count => {
        bytes += count;
        onProgress(count);
    }));
    const upload = new context.storage.Upload({
        client: context.s3,
        params: { Bucket: context.bucket, Key: name, Body: body, ContentType: 'application/zstd' },
        partSize: plan.partSize,
        queueSize: plan.queueSize,
        leavePartsOnError: false
    });
    const abort = () => void upload.abort();
    context.guard.signal.addEventListener('abort', abort);
    try {
        await upload.done();
        return { sha256: (await digest.digests())[0], bytes };
    }
    catch (error) {
        // tar blocks on a pipe nobody reads any more.
        tar.stop();
        body.destroy();
        throw context.guard.tripped ?? error;
    }
    finally {
        context.guard.signal.removeEventListener('abort', abort);
        digest.close();
    }
}
/**
 * tar's output, passed through unchanged while copies go to the hashing worker. A tar that fails ends its
 * output early: waiting for its exit makes that fail the upload instead of completing a truncated object.
 */
async function* hashedOutput(tar, digest, count) {
    for await (const chunk of tar.stdout) {
        digest.update(chunk);
        count(chunk.length);
        yield chunk;
    }
    await tar.exited;
}

;// CONCATENATED MODULE: ./src/backends/s3/store.ts
















/*
 * The fleet store: entries in an S3-compatible bucket, with the local store's semantics (layout.ts has the
 * object names). Lookup is GitHub's rule over a listing; a save uploads its archives under names no other
 * save uses and then creates the manifest with If-None-Match: *, the commit point; the manifest is read
 * back, so a save knows whether its entry is the one that stands also on a server that ignores the
 * condition. Every archive's SHA-256 and size are in the manifest and checked while it downloads.
 */
const MiB = 1024 * 1024;
const DEFAULT_PARTS = { partSize: 16 * MiB, queueSize: 4 };
const DEFAULT_RANGES = { rangeSize: 16 * MiB, concurrency: 4 };
/** An object no manifest refers to and this old was left by a crashed save (or a loser of a race): swept. */
const store_ORPHAN_AGE_MS = 60 * 60 * 1000;
/** A multipart upload still open after this long belongs to no running save: aborted. */
const STALE_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000;
class S3Store {
    name = 's3';
    restoresInPlace = false;
    label;
    layout;
    settings;
    log;
    bucket;
    clock;
    parts;
    ranges;
    /** Why writes are refused, once a write got 403: later saves say so without trying. */
    writeRefusal = null;
    constructor(settings, options = {}) {
        this.settings = settings;
        this.label = s3_describeS3Store(settings);
        this.layout = new S3Layout(settings.prefix);
        this.log = options.log ?? (() => undefined);
        this.bucket = new Bucket(settings, options.mask ?? (() => undefined));
        this.clock = options.clock ?? Date.now;
        this.parts = options.parts ?? DEFAULT_PARTS;
        this.ranges = options.ranges ?? DEFAULT_RANGES;
    }
    /** The SDK client this store built from its settings (tests watch its requests). */
    client() {
        return this.bucket.client();
    }
    /** Lets the process exit: the client's keep-alive sockets would hold it. */
    close() {
        return this.bucket.close();
    }
    async restore(spec, key, restoreKeys) {
        return this.named(async () => {
            const identity = identityOf(spec);
            const version = versionOf(identity);
            const found = await lookUpEntry(key, restoreKeys, exact => this.readManifest(exact, version), prefix => this.newestStartingWith(prefix, version));
            if (!found)
                return missed(await this.otherIdentity(identity, key));
            // The version covers the identity, but the manifest is data from the bucket: targets come from the spec.
            if (found.format !== STORE_FORMAT || found.parts.length !== spec.parts.length)
                throw store_corrupt(found.key, `it does not describe ${spec.parts.length} part(s) in format ${STORE_FORMAT}`);
            const started = performance.now();
            const staged = [];
            try {
                // Every part is downloaded, verified and staged before any is moved in: an entry restores whole or not at all.
                for (const [index, part] of found.parts.entries()) {
                    const stage = await this.restorePart(found, part, spec.parts[index]);
                    if (stage)
                        staged.push(stage);
                }
                for (const { restored, target } of staged)
                    await moveIntoPlace(restored, target);
            }
            finally {
                await Promise.all(staged.map(({ staging }) => promises_.rm(staging, { recursive: true, force: true })));
            }
            const transferMs = performance.now() - started;
            await this.markUsed(found);
            return { matchedKey: found.key, archiveBytes: entryBytes(found), transferMs };
        });
    }
    async save(spec, key) {
        if (this.writeRefusal)
            throw new ReadOnlyStoreError(this.writeRefusal, false);
        const tooLong = this.layout.keyProblem(key);
        if (tooLong)
            throw new Error(`${this.label}: cannot save ${key}: ${tooLong}`);
        const kinds = await Promise.all(spec.parts.map(part => pathKind(part.path)));
        if (kinds.every(kind => kind === 'missing')) {
            throw new Error(`nothing to save: none of these paths exists: ${spec.parts.map(part => part.path).join(', ')}`);
        }
        return this.named(async () => {
            const version = versionOf(identityOf(spec));
            // Entries are immutable: one that another job (or an earlier attempt of this one) published stands.
            if (await this.bucket.exists(this.layout.manifest(key, version), `looking for ${key}`)) {
                this.log(`${key} is in the store already (another job saved it); entries are never replaced.`);
                return { archiveBytes: 0 };
            }
            const saveId = newSaveId();
            const uploaded = [];
            const started = performance.now();
            try {
                const parts = [];
                for (const [index, part] of spec.parts.entries()) {
                    parts.push(await this.savePart(part, kinds[index], spec.exclude, key, version, archiveFileName(saveId, index), uploaded));
                }
                const meta = newEntryMeta(spec, key, saveId, parts, this.clock());
                const transferMs = performance.now() - started;
                if (!(await this.publish(meta))) {
                    await this.bucket.removeObjects(uploaded);
                    this.log(`Another job published ${key} at the same time; its entry stands, this save's archives were removed.`);
                }
                return { archiveBytes: entryBytes(meta), transferMs };
            }
            catch (error) {
                // Nothing half-written stays: no manifest was created, and the archives go (an unreachable server
                // leaves them to the orphan sweep).
                await this.bucket.removeObjects(uploaded).catch(() => undefined);
                throw this.refusedWrite(error) ?? error;
            }
        });
    }
    /** After a job's saves: prune to s3-max-age and s3-max-size when either is set. Never throws. */
    async maintain(_entries) {
        const { maxAgeMs, maxBytes } = this.settings;
        if (maxAgeMs === null && maxBytes === null)
            return;
        await lib_core/* group */.Os('Prune s3 store', async () => {
            if (this.writeRefusal)
                return this.log('Not pruning: these credentials are read-only.');
            try {
                const pruned = await this.prune({ maxAgeMs: maxAgeMs ?? undefined, maxBytes: maxBytes ?? undefined });
                const orphans = pruned.orphans.length > 0 ? ` and ${pruned.orphans.length} leftover object(s) of crashed saves` : '';
                this.log(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${orphans}, ${formatBytes(pruned.bytes)}; ${formatBytes(pruned.remainingBytes)} remain`);
            }
            catch (error) {
                lib_core/* warning */.$e(`Pruning the S3 store failed: ${stringifyError(error)}`);
            }
        });
    }
    /** Documents are objects of their own beside the entries, one per key, replaced whole (the run history is a few KB). */
    documents = {
        read: key => this.named(async () => {
            const text = await this.bucket.getText(this.layout.document(key), `reading the document ${key}`);
            return text === null ? null : JSON.parse(text).document;
        }),
        write: (key, document) => this.named(() => this.bucket.put(this.layout.document(key), JSON.stringify({ key, document }), `writing the document ${key}`))
    };
    async listEntries() {
        return this.named(async () => {
            const { entries } = await this.storedEntries();
            return entries.map(infoOf).sort((a, b) => b.lastUsed - a.lastUsed);
        });
    }
    /** The local store's policy (chooseToPrune) over the bucket's entries, then the leftovers of crashed saves. */
    async prune(options = {}) {
        return this.named(async () => {
            const stored = await this.storedEntries();
            const items = stored.entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entryBytes(entry.meta), entry }));
            const doomed = chooseToPrune(items, options, this.clock());
            const removed = [];
            for (const { entry } of doomed)
                if (options.dryRun || (await this.removeEntry(entry)))
                    removed.push(infoOf(entry));
            const orphans = [
                ...(await this.sweepOrphans(options.dryRun ?? false, stored)),
                ...(await this.sweepDocuments(options.maxAgeMs, options.dryRun ?? false))
            ];
            const freed = removed.reduce((sum, entry) => sum + entry.bytes, 0);
            return {
                entries: removed,
                files: [],
                orphans: orphans.map(orphan => orphan.name),
                bytes: freed + orphans.reduce((sum, orphan) => sum + orphan.size, 0),
                busyKinds: [],
                remainingBytes: items.reduce((sum, item) => sum + item.bytes, 0) - freed
            };
        });
    }
    async removeEntries(chosen) {
        return this.named(async () => {
            const removed = [];
            for (const entry of (await this.storedEntries()).entries) {
                if (chosen(infoOf(entry)) && (await this.removeEntry(entry)))
                    removed.push(infoOf(entry));
            }
            return removed;
        });
    }
    /** Downloads and re-hashes the archives of the entries `wanted` picks; a manifest that does not read is reported by its name. */
    async verifyEntries(wanted = () => true) {
        return this.named(async () => {
            const { entries, unreadable } = await this.storedEntries();
            const checks = unreadable
                .filter(bad => wanted({ key: bad.object.name }))
                .map(bad => ({ key: bad.object.name, bytes: 0, problem: bad.problem }));
            for (const { meta } of entries) {
                if (wanted(meta))
                    checks.push({ key: meta.key, kind: meta.kind, bytes: entryBytes(meta), problem: await this.archivesProblem(meta) });
            }
            return checks;
        });
    }
    /** Removes what verifyEntries found corrupt: every version of the key, or the manifest named. */
    async removeCorrupt(check) {
        await this.named(async () => {
            const named = this.layout.parseManifest(check.key);
            const targets = named ? [named] : [];
            if (!named) {
                for await (const object of this.bucket.list(this.layout.manifestsStartingWith(check.key))) {
                    const entry = this.layout.parseManifest(object.name);
                    if (entry?.key === check.key)
                        targets.push(entry);
                }
            }
            for (const target of targets)
                await this.removeEntryObjects(target);
        });
    }
    // ---- restore ----
    /**
     * The manifest of `key` in `version`, null when there is none. The bucket is written by other jobs, so
     * everything later used as an object name or an extraction plan is checked (entry-meta.ts).
     */
    async readManifest(key, version) {
        const text = await this.bucket.getText(this.layout.manifest(key, version), `reading the manifest of ${key}`);
        if (text === null)
            return null;
        let meta;
        try {
            meta = JSON.parse(text);
        }
        catch (error) {
            throw store_corrupt(key, `unreadable manifest: ${error.message}`);
        }
        const problem = metaProblem(meta, sha256(key), version);
        if (problem)
            throw store_corrupt(key, problem);
        return meta;
    }
    /**
     * The newest entry of `version` whose key starts with `prefix`: the server lists exactly those (layout.ts),
     * every page of them. Newest by the server's LastModified (one clock for every host); a tie is settled by
     * the manifests' own creation times. One corrupt manifest does not hide the others.
     */
    async newestStartingWith(prefix, version) {
        const candidates = [];
        for await (const object of this.bucket.list(this.layout.manifestsStartingWith(prefix))) {
            const entry = this.layout.parseManifest(object.name);
            if (entry && entry.version === version && entry.key.startsWith(prefix))
                candidates.push({ ...entry, modified: object.modified });
        }
        candidates.sort((a, b) => b.modified - a.modified);
        while (candidates.length > 0) {
            const tied = candidates.splice(0, candidates.filter(candidate => candidate.modified === candidates[0].modified).length);
            const metas = await Promise.all(tied.map(candidate => this.readManifest(candidate.key, version).catch((error) => (this.log(`Skipped: ${error.message}`), null))));
            const readable = metas.filter(meta => meta !== null);
            if (readable.length > 0)
                return readable.reduce((latest, meta) => (meta.created > latest.created ? meta : latest));
        }
        return undefined;
    }
    /** After a miss: whether the key (or a revision) is in the bucket under another identity, and what differs. */
    async otherIdentity(wanted, key) {
        const version = versionOf(wanted);
        try {
            const others = [];
            for await (const object of this.bucket.list(this.layout.manifestsStartingWith(key))) {
                const entry = this.layout.parseManifest(object.name);
                if (entry && entry.version !== version && isKeyOrRevision(entry.key, key))
                    others.push({ ...entry, modified: object.modified });
            }
            const newest = others.sort((a, b) => b.modified - a.modified)[0];
            const meta = newest ? await this.readManifest(newest.key, newest.version) : null;
            return otherIdentityNote(meta ? [meta] : [], wanted);
        }
        catch {
            // Only an explanation: the miss stands without it.
            return null;
        }
    }
    /** Downloads one part's archive into staging, hashing it as it streams (archive.ts extractVerified). */
    async restorePart(meta, part, target) {
        if (part.kind === 'missing')
            return null;
        const connection = await this.bucket.ready();
        const name = this.layout.archive(meta.key, meta.version, part.file);
        const progress = progressLog(`Restoring ${target.name}`, part.bytes, this.log);
        const chunks = objectChunks({ ...connection, bucket: this.settings.bucket }, name, part.bytes, this.ranges);
        const { stream, hashed } = verifiedObjectStream(chunks, progress);
        try {
            return await extractVerified(stream, hashed, part, part.kind, target.path);
        }
        catch (error) {
            if (error instanceof ArchiveMismatch)
                throw store_corrupt(meta.key, `archive for ${part.name} ${error.message}`);
            if (faultKind(error) === 'not-found')
                throw store_corrupt(meta.key, `archive for ${part.name} is missing`);
            if (error instanceof ExtractionFailed)
                throw new Error(`s3 cache entry "${meta.key}" was not restored into ${target.path}: ${error.message}`, { cause: error });
            throw connection.guard.tripped ?? faultOf(error, `downloading ${name}`);
        }
    }
    /** Best effort: credentials that may only read still restore; pruning by age then counts from the save. */
    async markUsed(meta) {
        try {
            await this.bucket.put(this.layout.used(meta.key, meta.version), '', `recording the use of ${meta.key}`);
        }
        catch (error) {
            this.log(`Could not record the use of ${meta.key}: ${reasonOf(error)}`);
        }
    }
    // ---- save ----
    /** Archives one part with tar and uploads it as tar makes it; records the upload for cleanup first. */
    async savePart(part, kind, exclude, key, version, file, uploaded) {
        if (kind === 'missing')
            return { name: part.name, kind };
        const connection = await this.bucket.ready();
        const name = this.layout.archive(key, version, file);
        uploaded.push(name);
        const tar = tarOutput(tarCreateArgs(part.path, kind, exclude));
        const progress = progressLog(`Uploading ${part.name}`, undefined, this.log);
        try {
            const { sha256: digest, bytes } = await uploadArchive({ ...connection, bucket: this.settings.bucket }, name, tar, this.parts, progress);
            return { name: part.name, kind, file, sha256: digest, bytes };
        }
        catch (error) {
            throw connection.guard.tripped ?? faultOf(error, `uploading ${name}`);
        }
    }
    /**
     * Creates the manifest, the commit point, create-only; true when it is the one that stands. It is read back
     * either way: a 412 may be our own earlier attempt (an SDK retry), and a server that ignores If-None-Match
     * lets a rival overwrite ours. A loser's archives were never referenced, so removing them is safe.
     */
    async publish(meta) {
        try {
            await this.bucket.put(this.layout.manifest(meta.key, meta.version), JSON.stringify(meta), `publishing the manifest of ${meta.key}`, true);
        }
        catch (error) {
            if (faultKind(error) !== 'precondition')
                throw error;
        }
        const standing = await this.readManifest(meta.key, meta.version);
        if (!standing)
            throw new Error(`the manifest of ${meta.key} did not read back after it was written`);
        return standing.saveId === meta.saveId;
    }
    /** A 403 on a write from credentials that could read (the lookup before it worked): read-only credentials. */
    refusedWrite(error) {
        if (faultKind(error) !== 'access-denied')
            return null;
        this.writeRefusal = `read-only credentials: ${this.label} refuses writes from them (${reasonOf(error)}); restores still work, nothing is saved`;
        return new ReadOnlyStoreError(this.writeRefusal, true);
    }
    // ---- management ----
    /** Every manifest, read (in parallel), with its last use from the `used/` markers. */
    async storedEntries() {
        const used = new Map();
        for await (const object of this.bucket.list(this.layout.usedRoot)) {
            const entry = this.layout.parseUsed(object.name);
            if (entry)
                used.set(store_entryId(entry), object.modified);
        }
        const manifests = [];
        for await (const object of this.bucket.list(this.layout.manifestsRoot)) {
            const name = this.layout.parseManifest(object.name);
            if (name)
                manifests.push({ object, name });
        }
        const stored = { entries: [], unreadable: [] };
        await forEachLimited(manifests, SMALL_CALLS, async ({ object, name }) => {
            try {
                const meta = await this.readManifest(name.key, name.version);
                if (meta)
                    stored.entries.push({ meta, lastUsed: Math.max(meta.lastUsed, used.get(store_entryId(name)) ?? 0) });
            }
            catch (error) {
                if (error instanceof S3Fault)
                    throw error;
                stored.unreadable.push({ object, name, problem: error.message });
            }
        });
        return stored;
    }
    /** The manifest goes first (the commit point), then the archives: a crash midway leaves orphans, never a half entry. */
    async removeEntry(entry) {
        const current = await this.readManifest(entry.meta.key, entry.meta.version).catch(() => null);
        // Saved afresh since it was chosen: the new entry is not the one the policy condemned.
        if (current?.saveId !== entry.meta.saveId)
            return false;
        await this.bucket.delete(this.layout.manifest(entry.meta.key, entry.meta.version));
        await this.bucket.removeObjects(archiveFiles(entry.meta).map(file => this.layout.archive(entry.meta.key, entry.meta.version, file)));
        await this.bucket.delete(this.layout.used(entry.meta.key, entry.meta.version));
        return true;
    }
    /** Everything of one key and version, whatever its manifest says (it may not read). */
    async removeEntryObjects(entry) {
        await this.bucket.delete(this.layout.manifest(entry.key, entry.version));
        const archives = [];
        for await (const object of this.bucket.list(`${this.layout.archive(entry.key, entry.version, '')}`))
            archives.push(object.name);
        await this.bucket.removeObjects(archives);
        await this.bucket.delete(this.layout.used(entry.key, entry.version));
    }
    /**
     * Leftovers older than an hour: archives no readable manifest refers to (a crashed save, the loser of a
     * race), manifests that do not read, markers of entries that are gone; and multipart uploads open for a
     * day, which no running save owns (the upload of a save whose endpoint went away).
     */
    async sweepOrphans(dryRun, stored) {
        const now = this.clock();
        const cutoff = now - store_ORPHAN_AGE_MS;
        const live = new Set(stored.entries.flatMap(({ meta }) => archiveFiles(meta).map(file => this.layout.archive(meta.key, meta.version, file))));
        const entries = new Set(stored.entries.map(({ meta }) => store_entryId(meta)));
        const orphans = stored.unreadable.map(bad => bad.object).filter(object => object.modified < cutoff);
        for await (const object of this.bucket.list(this.layout.archivesRoot))
            if (!live.has(object.name) && object.modified < cutoff)
                orphans.push(object);
        for await (const object of this.bucket.list(this.layout.usedRoot)) {
            const entry = this.layout.parseUsed(object.name);
            if (entry && !entries.has(store_entryId(entry)) && object.modified < cutoff)
                orphans.push(object);
        }
        if (!dryRun)
            await this.bucket.removeObjects(orphans.map(orphan => orphan.name));
        const uploads = await this.bucket.staleUploads(this.layout.archivesRoot, now - STALE_UPLOAD_AGE_MS);
        if (!dryRun)
            await forEachLimited(uploads, SMALL_CALLS, upload => this.bucket.abortUpload(upload.name, upload.uploadId));
        return [
            ...orphans,
            ...uploads.map(upload => ({ name: `${upload.name} (unfinished multipart upload)`, size: 0, modified: upload.modified }))
        ];
    }
    /** Documents nobody wrote for longer than maxAgeMs: the history of a branch that is gone. */
    async sweepDocuments(maxAgeMs, dryRun) {
        if (maxAgeMs === undefined)
            return [];
        const cutoff = this.clock() - maxAgeMs;
        const stale = [];
        for await (const object of this.bucket.list(this.layout.documentsRoot))
            if (object.modified < cutoff)
                stale.push(object);
        if (!dryRun)
            await this.bucket.removeObjects(stale.map(object => object.name));
        return stale;
    }
    async archivesProblem(meta) {
        const connection = await this.bucket.ready();
        for (const part of meta.parts) {
            if (part.kind === 'missing')
                continue;
            const name = this.layout.archive(meta.key, meta.version, part.file);
            try {
                const digest = await digestChunks(objectChunks({ ...connection, bucket: this.settings.bucket }, name, part.bytes, this.ranges));
                if (digest.bytes !== part.bytes)
                    return `archive for ${part.name} is ${digest.bytes} bytes, ${part.bytes} were written`;
                if (digest.sha256 !== part.sha256)
                    return `archive for ${part.name} does not match its SHA-256`;
            }
            catch (error) {
                if (error instanceof ArchiveMismatch)
                    return `archive for ${part.name} ${error.message}`;
                if (faultKind(error) === 'not-found')
                    return `archive for ${part.name} is missing`;
                throw connection.guard.tripped ?? faultOf(error, `downloading ${name}`);
            }
        }
        return null;
    }
    /** Errors leave the store naming it: `s3://bucket/prefix/: reading the manifest of k: access denied (403 AccessDenied)`. */
    async named(work) {
        try {
            return await work();
        }
        catch (error) {
            if (error instanceof S3Fault)
                throw new S3Fault(error.kind, `${this.label}: ${error.message}`, error.status, error.reason);
            throw error;
        }
    }
}
function store_corrupt(key, detail) {
    return new Error(`s3 cache entry "${key}" is corrupt: ${detail}`);
}
function infoOf(entry) {
    return { ...entryInfo(entry.meta), lastUsed: entry.lastUsed };
}
function store_entryId(entry) {
    return `${entry.version}/${entry.key}`;
}

;// CONCATENATED MODULE: ./src/backends/select.ts





/** `auto` is the GitHub cache service when the runner offers one, else the local store; s3 is only ever chosen by name. */
async function chooseBackend(config) {
    if (config.backend !== 'auto')
        return config.backend;
    return (await gitHubCacheAvailable()) ? 'github' : 'local';
}
function openBackend(name, config) {
    if (name === 'github')
        return new GitHubBackend({ idleTimeoutMs: config.transfer.idleTimeoutMs });
    if (name === 's3')
        return new S3Store(config.s3, { log: line => lib_core/* info */.pq(line), mask: maskSecret });
    const { dir, maxAgeMs, maxBytes } = config.local;
    return new LocalStore(dir, Date.now, { log: line => lib_core/* info */.pq(line), pruning: { maxAgeMs, maxBytes } });
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
    restoresInPlace = true;
    constructor(storeRoot, kind) {
        this.storeRoot = storeRoot;
        this.kind = kind;
    }
    async restore(spec, key) {
        // The tools find their directory in the store from the first job on, empty or not.
        for (const dir of partPaths(spec))
            await promises_.mkdir(dir, { recursive: true });
        if (!(await anyEntry(partPaths(spec))))
            return missed();
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

;// CONCATENATED MODULE: ./src/inplace/index.ts






/** In-place applies to the local store only; on GitHub's cache service there is no disk to share. */
function usesInPlace(config, backend) {
    return config.local.mode === 'in-place' && backend === 'local';
}
/**
 * The store's directory for each preset kind, which the kind then uses where it is. The user's own paths
 * are theirs: they never move into the store.
 */
function inPlaceDirs(config, inPlace) {
    return inPlace ? Object.fromEntries(PRESET_KINDS.map(kind => [kind, inPlaceDir(config.local.dir, kind)])) : {};
}
/** One shared lease per in-place kind, held until post has measured and saved. */
async function takeLeases(storeRoot, plans) {
    const leases = {};
    for (const plan of plans.filter(p => p.inPlace))
        leases[plan.kind] = await acquireLease(storeRoot, plan.kind, 'shared');
    return leases;
}
async function releaseLeases(leases) {
    for (const [kind, lease] of Object.entries(leases ?? {})) {
        await releaseLease(lease).catch(error => lib_core/* warning */.$e(`${kind}: could not release the in-place lease ${lease}: ${stringifyError(error)}`));
    }
}
/** The store a kind's plan restores from and saves to. */
function backendForPlan(plan, shared, storeRoot) {
    return plan.inPlace ? new InPlaceBackend(storeRoot, plan.kind) : shared;
}

// EXTERNAL MODULE: ./node_modules/@actions/exec/lib/exec.js + 1 modules
var exec = __webpack_require__(1955);
;// CONCATENATED MODULE: ./src/util/exec.ts

/**
 * Runs a command quietly (nothing reaches the log) with this process's environment as the action changed
 * it, plus `env`; a non-zero exit is a result, not an error. A command that cannot be started throws.
 */
async function runQuietly(command, args, env = {}) {
    const result = await exec/* getExecOutput */.H(command, args, {
        silent: true,
        ignoreReturnCode: true,
        env: { ...process.env, ...env }
    });
    return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
/** A probe's output; null when the tool is absent or fails, so callers can say so plainly. */
async function probe(command, args, env) {
    try {
        const result = await runQuietly(command, args, env);
        return result.code === 0 ? result.stdout.trim() : null;
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
function toolVersion(tool) {
    const key = `${tool}\0${process.env.PATH ?? ''}`;
    let version = versions.get(key);
    if (version === undefined) {
        version = probe(tool, ['--version']).then(firstVersion);
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
/** A kind's own directory, named by its role so that it restores wherever that role lives on another runner. */
function rolePart(name, dir) {
    return { origin: 'role', name, path: dir };
}
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
    async plan({ inPlaceDir }) {
        const tool = await containerTool();
        // In place, the store's directory becomes TMPDIR, under which buildah keeps its cache mounts.
        const tmp = inPlaceDir ?? (process.env.TMPDIR ? external_node_path_.resolve(process.env.TMPDIR) : '/var/tmp');
        const dir = external_node_path_.join(tmp, usesUidSuffix(tool) ? `buildah-cache-${process.getuid?.() ?? 0}` : 'buildah-cache');
        return {
            parts: [rolePart('buildah-cache-mounts', dir)],
            // Lock files belong to the build that held them; a restored one would be a stale lock.
            exclude: ['buildah-cache-lockfile', 'buildah-cache-lockfiles'],
            notes: [
                tool.version
                    ? `${tool.name} ${tool.version} keeps cache mounts in ${dir}`
                    : `neither buildah nor podman found; assuming the current layout ${dir}`
            ],
            keyParts: [
                ...platformParts(),
                { name: 'builder', value: `${tool.name}${tool.version ?? '-none'}`, source: `${tool.name} --version` }
            ],
            droppable: 0,
            ...(inPlaceDir === null ? {} : { inPlace: true, env: { [Env.TmpDir]: inPlaceDir } })
        };
    }
};
async function containerTool() {
    const podman = await toolVersion('podman');
    if (podman)
        return { name: 'podman', version: podman };
    return { name: 'buildah', version: await toolVersion('buildah') };
}
function usesUidSuffix(tool) {
    return !tool.version || versionAtLeast(tool.version, UID_SUFFIX_SINCE[tool.name]);
}

;// CONCATENATED MODULE: ./src/kinds/custom.ts
/** The user's own paths under the user's own key, like actions/cache; the key is taken as given. */
const custom = {
    name: 'custom',
    async plan({ config }) {
        const paths = config.paths?.paths ?? [];
        return {
            parts: paths.map(p => ({ origin: 'spelled', name: p.spelled, path: p.path })),
            exclude: [],
            notes: ['paths from the `paths` input, each known by its spelling on every machine'],
            keyParts: [],
            droppable: 0,
            ownKey: config.paths ? { key: config.paths.key, restoreKeys: config.paths.restoreKeys } : undefined
        };
    }
};

;// CONCATENATED MODULE: ./src/fetch/downloads.ts







/**
 * The generic URL cache: files stored by their SHA-256 under `<store>/sha256/<hex>`, so the same bytes
 * are fetched once whatever their URL, then copied to their destination. Only verified bytes are ever
 * stored or copied; a wrong hash fails with the expected and actual digests and leaves nothing behind.
 */
async function fetchDownload(spec, storeDir, onProgress, settings = {}) {
    const stored = storedPath(storeDir, spec.sha256);
    const source = await cachedState(stored, spec.sha256);
    if (source !== 'cache')
        await downloadInto(storeDir, spec.url, spec.sha256, onProgress, settings);
    await copyAtomically(stored, spec.dest);
    const { size } = await (0,promises_.stat)(stored);
    return { repo: redact(spec.url), path: spec.dest, size, digest: `sha256:${spec.sha256}`, source, verified: true };
}
function storedPath(storeDir, sha256) {
    return external_node_path_.join(storeDir, 'sha256', sha256);
}
/**
 * Downloads and verifies `url` into the store under its SHA-256 and records where it came from, so
 * `qdc verify --repair` can fetch it again. A URL with a query is not recorded: it may carry a
 * signature or a token, which has no place in a cache others can read.
 */
async function downloadInto(storeDir, url, sha256, onProgress, settings = {}) {
    const stored = storedPath(storeDir, sha256);
    await (0,promises_.rm)(stored, { force: true });
    await downloadVerified({
        url,
        credentials: { origin: new URL(url).origin },
        destination: stored,
        digest: { sha256 },
        onProgress,
        progressIntervalMs: 200,
        ...settings
    });
    if (new URL(url).search === '')
        await writeFileAtomicIfChanged(sourceFile(storeDir, sha256), url + '\n');
}
/** The URL a stored file was downloaded from, when it was recorded. */
async function recordedSource(storeDir, sha256) {
    const text = await readFile(sourceFile(storeDir, sha256), 'utf8').catch(() => null);
    return text?.trim() || null;
}
function sourceFile(storeDir, sha256) {
    return external_node_path_.join(storeDir, 'sources', sha256);
}
/** `cache` when a stored copy verifies, `repaired` when one exists but does not, else `downloaded`. */
async function cachedState(stored, sha256) {
    const info = await (0,promises_.stat)(stored).catch(() => undefined);
    if (!info)
        return 'downloaded';
    return (await fileMatches(stored, info.size, { sha256 })) ? 'cache' : 'repaired';
}
async function copyAtomically(from, to) {
    await (0,promises_.mkdir)(external_node_path_.dirname(to), { recursive: true });
    const temp = `${to}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`;
    try {
        await (0,promises_.copyFile)(from, temp);
        await (0,promises_.rename)(temp, to);
    }
    finally {
        await (0,promises_.rm)(temp, { force: true });
    }
}

;// CONCATENATED MODULE: ./src/fetch/files.ts

function fetchedFiles(entry) {
    return entry.details?.files;
}
/** Counts bytes the kind fetched from upstream itself, and the time they took: the bandwidth a miss is priced at. */
function addTransfer(entry, bytes, ms) {
    entry.fetched = { bytes: (entry.fetched?.bytes ?? 0) + bytes, ms: (entry.fetched?.ms ?? 0) + ms };
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

;// CONCATENATED MODULE: ./src/kinds/downloads.ts





/**
 * The content-addressed download cache: artifacts of the `downloads` input, stored by SHA-256 and copied to
 * their destinations once verified. The same bytes on every platform, so the key has no parts.
 */
const downloads = {
    name: 'downloads',
    async plan({ config, inPlaceDir }) {
        return {
            parts: [rolePart('downloads-store', inPlaceDir ?? config.downloads.dir)],
            exclude: [],
            notes: ['content-addressed download cache'],
            keyParts: [],
            droppable: 0,
            inPlace: inPlaceDir !== null
        };
    },
    async afterRestore({ config, plan, entry }) {
        if (config.downloads.specs.length === 0)
            return;
        await lib_core/* group */.Os('Fetch downloads', async () => {
            const details = { files: [] };
            entry.details = details;
            for (const spec of config.downloads.specs) {
                const started = performance.now();
                const file = await fetchDownload(spec, plan.spec.parts[0].path, undefined, config.transfer);
                details.files.push(file);
                if (file.source !== 'cache')
                    addTransfer(entry, file.size, performance.now() - started);
                lib_core/* info */.pq(`${file.path}: ${file.source} (${formatBytes(file.size)}, sha256 ${spec.sha256.slice(0, 12)}…)`);
            }
        });
    },
    summarize(entry) {
        const files = fetchedFiles(entry);
        return files?.length ? renderFiles(files) : [];
    }
};

;// CONCATENATED MODULE: ./src/ledger.ts

/** Bytes per second of a transfer, rounded; a transfer timed at under a millisecond counts as one. */
function bytesPerSecond(transfer) {
    return Math.round(transfer.bytes / (Math.max(transfer.ms, 1) / 1000));
}
/** A fault a person should act on: an annotation now, and a line next to the kind's figures in the summary. */
function warnAbout(entry, problem) {
    lib_core/* warning */.$e(`${entry.kind}: ${problem}`);
    entry.problems.push(problem.split('\n')[0]);
}
function totals(entries) {
    const downloadedBytes = ledger_sum(entries, e => e.downloadedBytes);
    const reusedBytes = ledger_sum(entries, e => e.reusedBytes);
    const used = downloadedBytes + reusedBytes;
    return {
        downloadedBytes,
        reusedBytes,
        uploadedBytes: ledger_sum(entries, e => e.uploadedBytes),
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
function ledger_sum(entries, figure) {
    return entries.reduce((total, e) => total + figure(e), 0);
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
function fingerprintOf(info, storeDir) {
    return `1;${info.storePath};${info.narHash};${info.narSize};${info.references.map(r => `${storeDir}/${r}`).join(',')}`;
}
function hashPartOf(storePath) {
    return external_node_path_.basename(storePath).slice(0, 32);
}
/** `nix-cache-info` as a map; null when the directory is not (yet) a binary cache. */
async function readCacheInfo(dir) {
    const text = await promises_.readFile(external_node_path_.join(dir, CACHE_INFO), 'utf8').catch(() => null);
    return text === null ? null : parseCacheInfo(text);
}
/** `Name: value` lines, as any binary cache (a directory or an HTTP server) serves its `nix-cache-info`. */
function parseCacheInfo(text) {
    return new Map(text
        .split('\n')
        .map(line => line.split(/:\s*/, 2))
        .filter(([name, value]) => name && value !== undefined));
}
async function listCache(dir) {
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
/** Paths and bytes of store paths, from narinfos or classified path-info records. */
function tally(infos) {
    let paths = 0;
    let narBytes = 0;
    let fileBytes = 0;
    for (const info of infos) {
        paths++;
        narBytes += info.narSize;
        fileBytes += info.fileSize;
    }
    return { paths, narBytes, fileBytes };
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
async function nix(args) {
    return run('nix', [...NIX_COMMAND, ...args]);
}
/** Runs a Nix tool quietly and returns its stdout; a failure throws with the tail of stderr. */
async function run(command, args) {
    const result = await runQuietly(command, args);
    if (result.code !== 0)
        throw new NixCommandError(`${command} ${args.filter(a => !NIX_COMMAND.includes(a))[0] ?? ''}`.trim(), result.code, result.stderr);
    return result.stdout;
}
/** Splits long path lists so one command line stays far below ARG_MAX. */
function inChunks(items, size = 500) {
    const chunks = [];
    for (let i = 0; i < items.length; i += size)
        chunks.push(items.slice(i, i + size));
    return chunks;
}

;// CONCATENATED MODULE: ./src/nix/settings.ts








/**
 * Asked before cache.nixos.org (40), nix-serve and harmonia (30) and Cachix (41): a local file beats any
 * network. Lowered at restore when a configured substituter would still come first (see substituters.ts).
 */
const CACHE_PRIORITY = 10;
function substituterUrl(dir, trusted, priority = CACHE_PRIORITY) {
    return `file://${dir}?priority=${priority}${trusted ? '&trusted=1' : ''}`;
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
    const home = env.XDG_CONFIG_HOME || external_node_path_.join(env.HOME || external_node_os_.homedir(), '.config');
    const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
    return [ours, ...[home, ...dirs].map(d => external_node_path_.join(d, 'nix', 'nix.conf'))].join(':');
}
/** Writes the conf file and exports it for later steps (GITHUB_ENV) and for this process's own nix calls. */
async function exportSubstituter(confFile, url, publicKeys) {
    await atomic_writeFileAtomic(confFile, substituterConf(url, publicKeys));
    lib_core/* exportVariable */.dN(Env.NixUserConfFiles, userConfFiles(confFile));
}
/**
 * Nix's effective settings, as Nix itself reports them (nix.conf files, NIX_CONFIG, defaults): `nix config
 * show`, or `nix show-config` on a Nix that predates it (2.8), which newer ones keep only as a deprecated alias.
 */
async function settings_readNixSettings() {
    let text;
    try {
        text = await nix(['config', 'show']);
    }
    catch {
        text = await nix(['show-config']);
    }
    return parseShowConfig(text);
}
/** Effective `require-sigs` (default true). */
function requiresSignatures(settings) {
    return settings.get('require-sigs') !== 'false';
}
/** From Nix's settings as read before qdc exported its own conf, the store's answer, and who this process runs as. */
async function gatherTrustFacts(config) {
    const user = external_node_os_.userInfo().username;
    const groups = ((await probe('id', ['-Gn'])) ?? '').split(/\s+/).filter(Boolean);
    return {
        user,
        groups,
        root: process.getuid?.() === 0,
        localStore: await opensStoreDirectly(config.get('store') ?? 'auto'),
        trustedByStore: await storeTrust(),
        trustedUsers: listSetting(config, 'trusted-users'),
        trustedSubstituters: listSetting(config, 'trusted-substituters'),
        trustedPublicKeys: listSetting(config, 'trusted-public-keys'),
        requireSigs: requiresSignatures(config)
    };
}
/**
 * Whether the store (the daemon, for a multi-user install) trusts this user, as it says itself: `trusted` in
 * `nix store info --json` (`nix store ping --json` before `info` existed). Null when this Nix has no such
 * answer (2.8 has no --json there): then trusted-users is read instead.
 */
async function storeTrust() {
    for (const command of [
        ['store', 'info', '--json'],
        ['store', 'ping', '--json']
    ]) {
        let parsed;
        try {
            parsed = JSON.parse(await nix(command));
        }
        catch {
            continue;
        }
        const trusted = parsed?.trusted;
        if (trusted === 1 || trusted === true)
            return true;
        if (trusted === 0 || trusted === false)
            return false;
        return null;
    }
    return null;
}
/** A whitespace-separated list setting; empty when unset. */
function listSetting(config, name) {
    return (config.get(name) ?? '').split(/\s+/).filter(Boolean);
}
function parseShowConfig(text) {
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
    const db = external_node_path_.join(process.env.NIX_STATE_DIR || '/nix/var/nix', 'db');
    return promises_.access(db, promises_.constants.W_OK).then(() => true, () => false);
}
/**
 * Whether the nix-daemon (if any) will honour our extra substituter for this user. A URL in
 * trusted-substituters is not enough: the daemon still checks signatures with its own keys only.
 */
function substituterAccepted(facts, url, publicKeys = []) {
    if (facts.root || facts.localStore)
        return true;
    const trustedUser = facts.trustedByStore ??
        facts.trustedUsers.some(entry => entry === '*' || entry === facts.user || (entry.startsWith('@') && facts.groups.includes(entry.slice(1))));
    if (trustedUser)
        return true;
    const signaturesPass = facts.requireSigs === false ||
        new URL(url).searchParams.get('trusted') === '1' ||
        publicKeys.every(key => facts.trustedPublicKeys?.includes(key));
    return facts.trustedSubstituters.includes(url) && signaturesPass;
}
/** What a self-hosted runner's admin adds to the NixOS configuration so the daemon uses the cache. */
function untrustedAdvice(facts, url, publicKeys) {
    const lines = [
        `Nix: the nix-daemon does not trust user '${facts.user}', so it ignores the restored cache ${url} and downloads or builds everything again.`,
        'An admin of this runner can allow it in the NixOS configuration:',
        `  nix.settings.trusted-substituters = [ "${url}" ];`,
        ...(publicKeys.length > 0 ? [`  nix.settings.trusted-public-keys = [ ${publicKeys.map(k => `"${k}"`).join(' ')} ];`] : []),
        `or trust the runner's user entirely: nix.settings.trusted-users = [ "${facts.user}" ];`
    ];
    return lines.join('\n');
}

;// CONCATENATED MODULE: ./src/nix/substituters.ts



/** nix-cache-info is tiny: a store that does not answer within this long is taken to announce nothing. */
const CACHE_INFO_TIMEOUT_MS = 5000;
const NIX_DEFAULT_PRIORITY = 0;
/** The substituters Nix's effective settings list, other than the cache directory `ownDir`, with their priorities. */
async function otherSubstituters(settings, ownDir) {
    const urls = listSetting(settings, 'substituters').filter(url => !isCacheDirectory(url, ownDir));
    return Promise.all(urls.map(priorityOf));
}
/** A priority that puts ours before every other substituter: `preferred` when that already does. */
function priorityAhead(others, preferred) {
    return Math.min(preferred, ...others.map(s => s.priority - 1));
}
/** The substituters Nix asks before a store of priority `ours` (ties go first: ours is listed last). */
function askedBefore(others, ours) {
    return others.filter(s => s.priority <= ours);
}
/** Every store in the order Nix asks them (Array.prototype.sort is stable, as Nix's is). */
function inNixOrder(stores) {
    return [...stores].sort((a, b) => a.priority - b.priority);
}
const PRIORITY_SOURCES = {
    url: 'set in its URL',
    'nix-cache-info': 'announced in its nix-cache-info',
    unannounced: "its nix-cache-info names none, Nix's default",
    unread: "its nix-cache-info could not be read, Nix's default assumed"
};
/** `<url> (priority N: where that comes from)`, for log lines and warnings. */
function describePriority(s) {
    return `${s.url} (priority ${s.priority}: ${PRIORITY_SOURCES[s.from]})`;
}
async function priorityOf(url) {
    const param = parsedUrl(url)?.searchParams.get('priority') ?? null;
    if (param !== null && /^-?\d+$/.test(param.trim()))
        return { url, priority: Number(param), from: 'url' };
    const info = await fetchCacheInfo(url);
    if (info === null)
        return { url, priority: NIX_DEFAULT_PRIORITY, from: 'unread' };
    const announced = info.get('Priority')?.trim() ?? '';
    return /^-?\d+$/.test(announced)
        ? { url, priority: Number(announced), from: 'nix-cache-info' }
        : { url, priority: NIX_DEFAULT_PRIORITY, from: 'unannounced' };
}
/** The store's nix-cache-info: read from a file:// directory, fetched from an http(s) cache; null for other stores or on any fault. */
async function fetchCacheInfo(url) {
    const parsed = parsedUrl(url);
    if (!parsed)
        return null;
    if (parsed.protocol === 'file:')
        return readCacheInfo(decodeURIComponent(parsed.pathname));
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        return null;
    try {
        const response = await fetch(`${url.split('?')[0].replace(/\/+$/, '')}/nix-cache-info`, {
            signal: AbortSignal.timeout(CACHE_INFO_TIMEOUT_MS)
        });
        return response.ok ? parseCacheInfo(await response.text()) : null;
    }
    catch {
        return null;
    }
}
function isCacheDirectory(url, dir) {
    const parsed = parsedUrl(url);
    return parsed?.protocol === 'file:' && external_node_path_.resolve(decodeURIComponent(parsed.pathname)) === external_node_path_.resolve(dir);
}
/** Store URLs such as `daemon` or `auto` are not URLs at all. */
function parsedUrl(url) {
    try {
        return new URL(url);
    }
    catch {
        return null;
    }
}

;// CONCATENATED MODULE: ./src/nix/signing.ts








/**
 * The signing key the input names, checked before anything is restored: a key file is read (and its
 * content masked) here, an inline key was checked by the config parse. A malformed key is one input error
 * that never repeats the value.
 */
async function resolveSigningKey(source) {
    if (source === null)
        return null;
    if ('inline' in source)
        return { file: null, publicKey: source.inline.publicKey };
    const secret = await promises_.readFile(source.file, 'utf8').catch(() => null);
    if (secret === null)
        throw new inputs_InputError(constants_Inputs.NixSigningKey, `the file ${source.file} does not exist; give a key file or the key itself`);
    lib_core/* setSecret */.Pq(secret.trim());
    const publicKey = nix_key_publicKeyOf(secret);
    if (!publicKey)
        throw new inputs_InputError(constants_Inputs.NixSigningKey, `${source.file} does not hold a Nix secret key (${nix_key_SECRET_KEY_FORMAT})`);
    return { file: source.file, publicKey };
}
/**
 * Runs `work` with a file Nix can read the secret key from (`secret-key=` takes files only). A key given
 * inline is read from the input again here rather than carried in the run state, and its private copy
 * lives only as long as `work`: no copy of the secret outlives the step that needs it.
 */
async function withKeyFile(key, work) {
    if (key === null || key.file !== null)
        return work(key?.file ?? null);
    const secret = lib_core/* getInput */.V4(constants_Inputs.NixSigningKey).trim();
    lib_core/* setSecret */.Pq(secret);
    if (nix_key_publicKeyOf(secret) !== key.publicKey)
        throw new Error('the nix-signing-key input changed between the main and post steps; not signing');
    const dir = await promises_.mkdtemp(external_node_path_.join(temp_runnerTemp(), 'qdc-nix-key-'));
    try {
        const file = external_node_path_.join(dir, 'secret-key');
        await promises_.writeFile(file, secret, { mode: 0o600 });
        return await work(file);
    }
    finally {
        await promises_.rm(dir, { recursive: true, force: true });
    }
}
/** Whether `signature` (`name:base64`) is `publicKey`'s signature over a narinfo's fingerprint. */
function verifySignature(fingerprint, signature, publicKey) {
    const [sigName, sigData] = splitKey(signature);
    const [keyName, keyData] = splitKey(publicKey);
    if (!sigName || sigName !== keyName || !sigData || !keyData)
        return false;
    const raw = Buffer.from(keyData, 'base64');
    if (raw.length !== 32)
        return false;
    try {
        const key = external_node_crypto_.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
        return external_node_crypto_.verify(null, Buffer.from(fingerprint), key, Buffer.from(sigData, 'base64'));
    }
    catch {
        return false;
    }
}
function keyName(key) {
    return splitKey(key)[0];
}
function splitKey(key) {
    const colon = key.indexOf(':');
    return colon < 0 ? ['', ''] : [key.slice(0, colon), key.slice(colon + 1)];
}

;// CONCATENATED MODULE: ./src/nix/store-paths.ts



async function listValidPaths() {
    const out = await nix(['path-info', '--all']);
    return out
        .split('\n')
        .map(line => line.trim())
        .filter(Boolean)
        .sort();
}
async function writePathList(file, paths) {
    await atomic_writeFileAtomic(file, paths.join('\n') + '\n');
}
async function readPathList(file) {
    return (await promises_.readFile(file, 'utf8')).split('\n').filter(Boolean);
}
/** Paths valid now that were not at restore, without `.drv` files: evaluation writes those, nothing builds them. */
function newPaths(before, after) {
    const known = new Set(before);
    return after.filter(p => !known.has(p) && !p.endsWith('.drv'));
}
/**
 * A substituter post cannot reach must not hold it up: Nix's defaults (no connect timeout of its own, five
 * attempts with backoff) could take minutes per path on an offline runner.
 */
const REMOTE_QUERY = ['--option', 'connect-timeout', '5', '--option', 'download-attempts', '1'];
/**
 * What Nix knows of `paths` in the local store, or in `store` (a substituter's URL): there, a path the
 * store lacks is left out (2.8 says `valid: false`, 2.19+ null), and Nix answers from its narinfo disk
 * cache when it looked the path up before.
 */
async function pathInfos(paths, store = null) {
    const infos = [];
    const where = store === null ? [] : ['--store', store, ...REMOTE_QUERY];
    for (const chunk of inChunks(paths))
        infos.push(...parsePathInfoJson(await nix(['path-info', '--json', ...where, ...chunk])));
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
        narHash: typeof r.narHash === 'string' ? r.narHash : '',
        narSize: Number(r.narSize ?? 0),
        downloadSize: typeof r.downloadSize === 'number' ? r.downloadSize : null,
        ultimate: r.ultimate === true,
        signatures: Array.isArray(r.signatures) ? r.signatures : [],
        ca: typeof r.ca === 'string' ? r.ca : null
    }));
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
async function setUpNix(settings, entry, snapshotDir) {
    await lib_core/* group */.Os('Nix substituter', async () => {
        try {
            await setUp(settings, entry, snapshotDir);
        }
        catch (error) {
            warnAbout(entry, `setting up the Nix cache failed, builds go on without it: ${stringifyError(error)}`);
        }
    });
}
async function setUp(settings, entry, snapshotDir) {
    if ((await toolVersion('nix')) === null) {
        warnAbout(entry, 'nix is not installed (no working `nix` on PATH): the cache directory is restored and saved, but nothing uses it. Install Nix before this action.');
        return;
    }
    const storeDir = JSON.parse(await run('nix-instantiate', ['--eval', '-E', 'builtins.storeDir']));
    await writePathList(baselineFile(snapshotDir), await listValidPaths());
    // Which caches Nix accepts is for Nix to say: its effective require-sigs and trusted-public-keys.
    const nixConf = await settings_readNixSettings();
    const trustedKeys = [...listSetting(nixConf, 'trusted-public-keys'), ...settings.publicKeys];
    const check = await checkCache(settings.dir, storeDir, trustedKeys, settings.trusted, requiresSignatures(nixConf));
    for (const problem of check.problems)
        warnAbout(entry, problem);
    for (const note of check.notes)
        lib_core/* info */.pq(note);
    if (check.accepted.length === 0) {
        await writeRecord(snapshotDir, { storeDir, saveable: check.saveable, accepted: [], priority: CACHE_PRIORITY });
        return;
    }
    // The settings were read before our conf is exported, whose extra-trusted-public-keys the daemon would not see.
    const facts = await gatherTrustFacts(nixConf);
    const { url, priority } = await firstSubstituter(settings, nixConf, facts, entry);
    await writeRecord(snapshotDir, { storeDir, saveable: check.saveable, accepted: check.accepted, priority });
    await exportSubstituter(external_node_path_.join(snapshotDir, 'nix.conf'), url, settings.publicKeys);
    lib_core/* info */.pq(`Later steps substitute from ${url} first (${check.accepted.length} store paths)`);
    if (!substituterAccepted(facts, url, settings.publicKeys))
        warnAbout(entry, untrustedAdvice(facts, url, settings.publicKeys));
}
async function writeRecord(snapshotDir, record) {
    await atomic_writeFileAtomic(recordFile(snapshotDir), JSON.stringify(record));
}
/**
 * The restored cache's URL, with a priority that has Nix ask it before every other substituter it is
 * configured with: 10 when that already does (cache.nixos.org is 40), else one below the lowest (an HTTP
 * cache whose nix-cache-info names no Priority counts as 0). A daemon that allows only the URL its admin
 * listed (priority 10) would ignore a lowered one: then that URL stays, and a warning says what Nix asks first.
 */
async function firstSubstituter(settings, nixConf, facts, entry) {
    const others = await otherSubstituters(nixConf, settings.dir);
    for (const other of others)
        lib_core/* info */.pq(`Nix also substitutes from ${describePriority(other)}`);
    const priority = priorityAhead(others, CACHE_PRIORITY);
    const url = substituterUrl(settings.dir, settings.trusted, priority);
    if (priority === CACHE_PRIORITY)
        return { url, priority };
    const ahead = askedBefore(others, CACHE_PRIORITY).map(describePriority).join(', ');
    const usual = substituterUrl(settings.dir, settings.trusted);
    if (!substituterAccepted(facts, url, settings.publicKeys) && substituterAccepted(facts, usual, settings.publicKeys)) {
        warnAbout(entry, `Nix asks ${ahead} before the restored cache, and the nix-daemon allows the cache only as ${usual}: store paths both hold are downloaded again. ` +
            `Give those substituters a priority above ${CACHE_PRIORITY} (?priority=40 on their URL), or allow ${url} in trusted-substituters too.`);
        return { url: usual, priority: CACHE_PRIORITY };
    }
    lib_core/* info */.pq(`The restored cache gets priority ${priority}, so that Nix asks it before ${ahead}`);
    return { url, priority };
}
/**
 * Validates a restored file:// cache before Nix sees it: the store it was made for, narinfos that do not
 * parse or lack their NAR (removed, so Nix never trips on them), and signatures Nix will accept.
 */
async function checkCache(dir, storeDir, trustedKeys, trusted, requireSigs = true) {
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
        await promises_.rm(external_node_path_.join(dir, name), { force: true });
    }
    const problems = broken.length > 0
        ? [
            `removed ${broken.length} corrupt narinfo file(s) from the restored cache (first: ${broken[0]}); Nix fetches or builds those paths instead.`
        ]
        : [];
    const entries = [...listing.entries.values()];
    const unchecked = trusted
        ? ' (nix-trusted: signatures not checked)'
        : !requireSigs
            ? ' (require-sigs = false: Nix takes them unsigned)'
            : '';
    const accepted = unchecked
        ? entries
        : entries.filter(e => e.sigs.some(sig => trustedKeys.some(key => verifySignature(fingerprintOf(e, storeDir), sig, key))));
    const notes = [`Restored binary cache: ${entries.length} store paths, ${accepted.length} usable${unchecked}.`];
    if (entries.length > 0 && accepted.length === 0)
        problems.push(signatureProblem(entries, trustedKeys));
    else if (accepted.length < entries.length)
        notes.push(`${entries.length - accepted.length} store paths carry no signature by a trusted key; Nix fetches or builds those instead.`);
    return { saveable: true, accepted: accepted.map(e => e.hash), problems, notes };
}
async function withoutNar(dir, entries) {
    const missing = [];
    for (const info of entries.values()) {
        const nar = external_node_path_.resolve(dir, info.url);
        if (!nar.startsWith(dir + external_node_path_.sep) || !(await promises_.stat(nar).catch(() => null))?.isFile())
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

;// CONCATENATED MODULE: ./src/nix/copy.ts

/**
 * `nix copy --to file://…`: Nix writes narinfo and NAR itself and adds whatever of each path's closure the
 * directory lacks, so the cache stays closed under references. (The reverse, `--all --from file://`, fails
 * on such caches: never used.)
 */
async function copyToCache(dir, paths, signingKeyFile) {
    const url = `file://${dir}?compression=zstd${signingKeyFile ? `&secret-key=${signingKeyFile}` : ''}`;
    for (const chunk of inChunks(paths))
        await nix(['copy', '--to', url, ...chunk]);
}

;// CONCATENATED MODULE: ./src/nix/origins.ts




/**
 * Where each new path came from, from evidence rather than from the order Nix should have asked in. Nix
 * substitutes a path from the first store (in priority order) whose narinfo it accepts and copies that
 * narinfo's signatures onto the path, so the store that served it is the first whose narinfo has the
 * path's NAR hash and exactly the signatures the path carries (failing that, the first whose signatures
 * the path carries: Nix can sign a path later). The restored cache's own signature (nix-signing-key) is on
 * no upstream's narinfo, which is what tells the two apart when both hold a path; only an unsigned cache
 * (nix-trusted) leaves the priority order to decide. A path no store offers that way was built here when
 * Nix says so (`ultimate`) or nobody signed it and it is content-addressed (a source added by evaluation);
 * otherwise it came from a store qdc cannot see and stays a download, at its NAR size (`store` null).
 * `stores` must be in the order Nix asks them.
 */
async function tracePaths(added, stores) {
    const served = await servingStores(added.filter(info => !info.ultimate), stores);
    return added.map(info => {
        const offer = served.get(info.path);
        if (info.ultimate)
            return { info, origin: 'built', store: null, fileSize: 0 };
        if (offer)
            return {
                info,
                origin: offer.store.accepted ? 'fromCache' : 'fromUpstream',
                store: offer.store.url,
                fileSize: offer.info.downloadSize ?? offer.info.narSize
            };
        if (info.ca !== null && info.signatures.length === 0)
            return { info, origin: 'built', store: null, fileSize: 0 };
        return { info, origin: 'fromUpstream', store: null, fileSize: info.narSize };
    });
}
/** For each path, the store whose narinfo it was made from, asking each store only for what is still open. */
async function servingStores(paths, stores) {
    const byPath = new Map(paths.map(info => [info.path, info]));
    const exact = new Map();
    const subset = new Map();
    for (const store of stores) {
        const open = [...byPath.keys()].filter(p => !exact.has(p) && (!store.accepted || store.accepted.has(hashPartOf(p))));
        if (open.length === 0)
            continue;
        for (const offered of await narinfosOf(store, open)) {
            const local = byPath.get(offered.path);
            const match = local ? matchOf(local, offered) : null;
            if (match === 'exact')
                exact.set(offered.path, { store, info: offered });
            else if (match === 'subset' && !subset.has(offered.path))
                subset.set(offered.path, { store, info: offered });
        }
    }
    return new Map([...subset, ...exact]);
}
/** Whether the path could have been substituted from this narinfo: the same NAR, and its signatures all on the path. */
function matchOf(local, offered) {
    if (offered.narHash !== local.narHash)
        return null;
    const carried = new Set(local.signatures);
    if (!offered.signatures.every(sig => carried.has(sig)))
        return null;
    return new Set(offered.signatures).size === carried.size ? 'exact' : 'subset';
}
/** The store's narinfos for `paths`, through Nix (which answers from its narinfo disk cache when it can); none when the store cannot be read. */
async function narinfosOf(store, paths) {
    try {
        return await pathInfos(paths, store.url);
    }
    catch (error) {
        lib_core/* info */.pq(`Could not ask ${store.url} about ${paths.length} store path(s): ${stringifyError(error)}`);
        return [];
    }
}

;// CONCATENATED MODULE: ./src/nix/save.ts













/**
 * Before the nix kind is measured and saved: classify the store paths the job added, copy them into the
 * binary cache directory (when this run may add to it), prune it. Returns the figures, or null when Nix was
 * not set up in main; never fails the job.
 */
async function collectNixPaths(settings, entry, snapshotDir, mayAdd) {
    return lib_core/* group */.Os('Collect Nix store paths', async () => {
        try {
            return await collect(settings, entry, snapshotDir, mayAdd);
        }
        catch (error) {
            warnAbout(entry, `collecting Nix store paths failed, the cache is saved as restored: ${stringifyError(error)}`);
            return null;
        }
    });
}
async function collect(settings, entry, snapshotDir, mayAdd) {
    const record = await readJson(recordFile(snapshotDir));
    if (!record) {
        lib_core/* info */.pq('Nix was not set up in the main step; the cache directory is saved as it is.');
        return null;
    }
    const valid = await listValidPaths();
    const added = await pathInfos(newPaths(await readPathList(baselineFile(snapshotDir)), valid));
    const { stores, others } = await sourceStores(settings.dir, record);
    const origins = await tracePaths(added, stores);
    const account = {
        built: tallyOrigins(origins, o => o.origin === 'built'),
        fromCache: tallyOrigins(origins, o => o.origin === 'fromCache'),
        fromUpstream: tallyOrigins(origins, o => o.origin === 'fromUpstream'),
        unattributed: tallyOrigins(origins, o => o.origin === 'fromUpstream' && o.store === null),
        copied: { paths: 0, narBytes: 0, fileBytes: 0 },
        pruned: { paths: 0, narBytes: 0, fileBytes: 0 }
    };
    logAccount(account, origins);
    for (const problem of accountingProblems(origins, new Set(record.accepted), others, record.priority))
        warnAbout(entry, problem);
    const dir = settings.dir;
    if (!record.saveable || !mayAdd) {
        lib_core/* info */.pq('Not adding to the binary cache: it belongs to another store, or this run does not save.');
        return account;
    }
    const before = await listCache(dir);
    const missing = added.filter(info => !before.entries.has(hashPartOf(info.path))).map(info => info.path);
    if (missing.length > 0)
        await withKeyFile(settings.signing, file => copyToCache(dir, missing, file));
    const after = await listCache(dir);
    account.copied = tally([...after.entries.values()].filter(info => !before.entries.has(info.hash)));
    account.pruned = await prune(dir, after.entries, new Set(valid.map(hashPartOf)), settings);
    lib_core/* info */.pq(`Binary cache: ${fmt(account.copied)} added, ${fmt(account.pruned)} pruned`);
    return account;
}
/**
 * The stores Nix substitutes from, in the order it asks them: the substituters as post finds them
 * configured (a later step may have added one) and the restored cache at the priority main gave it.
 */
async function sourceStores(dir, record) {
    const others = await otherSubstituters(await settings_readNixSettings().catch(() => new Map()), dir);
    const restored = { url: `file://${dir}`, priority: record.priority, accepted: new Set(record.accepted) };
    // Listed last: among equal priorities Nix asks ours (an extra-substituter) last.
    return { stores: inNixOrder([...others, restored]), others };
}
function tallyOrigins(origins, which) {
    return tally(origins.filter(which).map(o => ({ narSize: o.info.narSize, fileSize: o.fileSize })));
}
/**
 * What makes the figures or the cache less than they should be, each a warning: paths the restored cache
 * holds that Nix fetched from elsewhere anyway (downloaded twice, and counted so), and paths whose source
 * qdc cannot see (counted at NAR size, more than crossed the wire).
 */
function accountingProblems(origins, accepted, others, priority) {
    const problems = [];
    const refetched = origins.filter(o => o.origin === 'fromUpstream' && o.store !== null && accepted.has(hashPartOf(o.info.path)));
    if (refetched.length > 0) {
        const from = [...new Set(refetched.map(o => o.store))].join(', ');
        const ahead = askedBefore(others, priority);
        const why = ahead.length > 0
            ? `Nix asks ${ahead.map(describePriority).join(', ')} before the restored cache (priority ${priority}): give it a priority above ${priority}, or configure it before this action, which then puts the cache first`
            : 'Nix did not take them from the restored cache (a substituter given on a command line, or a cache entry it refused)';
        problems.push(`${refetched.length} store path(s) the restored cache holds were downloaded again from ${from} (${formatBytes(save_sum(refetched))}): ${why}.`);
    }
    const unseen = origins.filter(o => o.origin === 'fromUpstream' && o.store === null);
    if (unseen.length > 0) {
        const configured = others.map(s => s.url).join(', ') || 'none';
        problems.push(`${unseen.length} substituted store path(s) match no narinfo that the substituters Nix is configured with (${configured}) gave qdc: counted as downloaded at their NAR size (${formatBytes(save_sum(unseen))}), more than crossed the wire.`);
    }
    return problems;
}
/** The bytes the serving stores hold for these paths (NAR size where no store could be seen). */
function save_sum(origins) {
    return origins.reduce((total, o) => total + o.fileSize, 0);
}
/** Stamps what this run's store holds as used today, then drops what is stale or over the size limit. */
async function prune(dir, entries, validHashes, settings) {
    const today = new Date();
    const used = new Set([...entries.keys()].filter(hash => validHashes.has(hash)));
    const lastUsed = stampUsed(await readLastUsed(dir), entries, used, today.toISOString().slice(0, 10));
    const drop = choosePrunable(entries, lastUsed, { maxBytes: settings.maxBytes, maxAgeMs: settings.maxAgeMs, now: today });
    if (drop.size > 0)
        await removeEntries(dir, entries, drop);
    for (const hash of drop)
        delete lastUsed[hash];
    await writeLastUsed(dir, lastUsed);
    return tally([...entries.values()].filter(info => drop.has(info.hash)));
}
function logAccount(account, origins) {
    lib_core/* info */.pq(`New store paths: built here ${fmt(account.built)}; from the restored cache ${fmt(account.fromCache)}; downloaded from upstream ${fmt(account.fromUpstream)}`);
    const unseen = 'a store qdc cannot see';
    const byStore = new Map();
    for (const o of origins.filter(o => o.origin === 'fromUpstream'))
        byStore.set(o.store ?? unseen, [...(byStore.get(o.store ?? unseen) ?? []), o]);
    for (const [store, paths] of byStore)
        lib_core/* info */.pq(`  from ${store}: ${paths.length} path(s), ${formatBytes(save_sum(paths))} over the wire`);
}
/** Paths, NAR bytes and, where a binary cache holds them, its compressed bytes. */
function fmt(t) {
    return `${t.paths} (${formatBytes(t.narBytes)} NAR${t.fileBytes > 0 ? `, ${formatBytes(t.fileBytes)} compressed` : ''})`;
}

;// CONCATENATED MODULE: ./src/kinds/nix.ts






/**
 * A `file://` binary cache (see src/nix/): once restored it becomes the first substituter of every later
 * step; before saving, the store paths the job added are classified and copied into it. Its figures come
 * from that classification, since the directory diff cannot tell a path built here from one downloaded:
 * downloaded is the compressed bytes upstream caches sent (their narinfos' FileSize), reused what the
 * restored cache holds for the paths Nix took from it.
 */
const nix_nix = {
    name: 'nix',
    async plan({ config, inPlaceDir }) {
        const signing = await resolveSigningKey(config.nix.signingKey);
        const version = await toolVersion('nix');
        const settings = {
            dir: inPlaceDir ?? config.nix.dir,
            publicKeys: [...new Set([...config.nix.publicKeys, ...(signing ? [signing.publicKey] : [])])],
            trusted: config.nix.trusted,
            signing,
            maxBytes: config.nix.maxBytes,
            maxAgeMs: config.nix.maxAgeMs
        };
        return {
            parts: [rolePart('nix-binary-cache', settings.dir)],
            exclude: [],
            notes: ['file:// binary cache directory (nix-cache-info, *.narinfo, nar/)'],
            keyParts: [...platformParts(), { name: 'nix', value: `nix${version ?? '-none'}`, source: 'nix --version' }],
            droppable: 0,
            inPlace: inPlaceDir !== null,
            data: settings
        };
    },
    async afterRestore({ plan, entry, snapshotDir }) {
        await setUpNix(plan.data, entry, snapshotDir);
    },
    async beforeSave({ config, plan, entry, mode, snapshotDir }) {
        const account = await collectNixPaths(plan.data, entry, snapshotDir, mode.write && config.save !== 'never');
        if (account)
            entry.details = { nix: account };
    },
    account(entry) {
        const account = entry.details?.nix;
        if (!account)
            return null;
        const { fromUpstream, fromCache } = account;
        return {
            downloadedBytes: fromUpstream.fileBytes,
            reusedBytes: fromCache.fileBytes,
            explanation: `Downloaded from upstream caches: ${formatBytes(fromUpstream.fileBytes)} over the wire (${formatBytes(fromUpstream.narBytes)} as NARs); ` +
                `reused from the restored cache: ${formatBytes(fromCache.fileBytes)} as it stores them (${formatBytes(fromCache.narBytes)} as NARs)`
        };
    },
    summarize(entry) {
        const account = entry.details?.nix;
        if (!account)
            return [];
        const row = (label, t, compressed = true) => `| ${label} | ${t.paths} | ${formatBytes(t.narBytes)} | ${compressed ? formatBytes(t.fileBytes) : '–'} |`;
        return [
            '| Nix store paths | Paths | NAR bytes | Compressed bytes |',
            '| --- | ---: | ---: | ---: |',
            row('built on this runner', account.built, false),
            row('from the restored cache', account.fromCache),
            row('downloaded from upstream caches', account.fromUpstream),
            ...(account.unattributed.paths > 0 ? [row('… from a store qdc cannot see (counted at NAR size)', account.unattributed)] : []),
            row('added to the cache', account.copied),
            row('pruned from the cache', account.pruned)
        ];
    }
};

// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
;// CONCATENATED MODULE: ./src/podman/compose-file.ts



/**
 * The services of a compose file that have a `build:` section, read the way podman-compose names their
 * images (`image:`, else `<project>_<service>` with the project named after the file's folder). Throws
 * one line on a file that is not valid YAML or builds nothing, so a typo does not surface as a Python
 * traceback halfway through the job.
 */
function readComposeServices(file) {
    let document;
    try {
        document = (0,dist/* parse */.qg)(external_node_fs_.readFileSync(file, 'utf8'));
    }
    catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new Error(`${file} is not a valid compose file: ${reason}`, { cause: error });
    }
    const services = document?.services;
    if (typeof services !== 'object' || services === null || Array.isArray(services)) {
        throw new Error(`${file} has no 'services:' mapping; it is not a compose file`);
    }
    const project = external_node_path_.basename(external_node_path_.dirname(external_node_path_.resolve(file)))
        .toLowerCase()
        .replace(/[^-_a-z0-9]/g, '');
    const built = Object.entries(services)
        .filter(([, service]) => service?.build !== undefined)
        .map(([name, service]) => {
        const image = typeof service?.image === 'string' ? service.image : `${project}_${name}`;
        const profiles = Array.isArray(service?.profiles) ? service.profiles.map(String) : [];
        return profiles.length > 0 ? { name, image, profiles } : { name, image };
    });
    if (built.length === 0)
        throw new Error(`${file} has no service with a 'build:' section; there is nothing to build`);
    return built;
}
/** The service an image belongs to; podman may print the tag with `localhost/` and a `:latest` the file leaves out. */
function serviceOfImage(image, services) {
    const bare = (name) => name.replace(/^localhost\//, '').replace(/:latest$/, '');
    return services.find(service => bare(service.image) === bare(image))?.name ?? image;
}

;// CONCATENATED MODULE: ./src/podman/podman.ts

/** Runs podman quietly with qdc's private environment additions; never throws for a non-zero exit. */
function podman(args, env) {
    return runQuietly('podman', args, env);
}
/** The last line podman wrote to stderr: its `Error: …` reason. */
function reason(result) {
    const lines = result.stderr.trim().split('\n');
    return lines[lines.length - 1] || `exit code ${result.code}`;
}

;// CONCATENATED MODULE: ./src/podman/base-images.ts





/** Which layout tag holds which base image (`qdc-base/<hash>:image` → `docker.io/library/python:3.12`). */
const BASE_IMAGES_FILE = 'base-images.json';
const BASE_REPOSITORY = 'qdc-base';
function baseImageTag(ref) {
    return `${BASE_REPOSITORY}/${external_node_crypto_.createHash('sha256').update(ref).digest('hex').slice(0, 16)}:image`;
}
/**
 * Loads every base image the cache holds into podman's storage, under its own name, so FROM finds it
 * locally and the build contacts no upstream registry. An image already present is left alone.
 */
async function loadBaseImages(registry, bridge, env) {
    const loaded = new Map();
    const saved = (await readJson(external_node_path_.join(registry.layout.dir, BASE_IMAGES_FILE))) ?? {};
    for (const [tag, ref] of Object.entries(saved)) {
        if (!registry.layout.refNames().includes(tag))
            continue;
        if ((await podman(['image', 'exists', ref], env)).code === 0) {
            lib_core/* info */.pq(`base image ${ref}: already in podman's storage`);
            registry.touched.add(tag);
            continue;
        }
        registry.label = `base:${ref}`;
        const pulled = await podman(['pull', '--quiet', `${bridge}/${tag}`], env);
        if (pulled.code !== 0) {
            lib_core/* warning */.$e(`base image ${ref} could not be loaded from the cache (${reason(pulled)}); the build will pull it`);
            continue;
        }
        await podman(['tag', `${bridge}/${tag}`, ref], env);
        await podman(['untag', `${bridge}/${tag}`, `${bridge}/${tag}`], env);
        loaded.set(ref, registry.trafficOf(registry.label).servedBytes);
        lib_core/* info */.pq(`base image ${ref}: loaded from the cache`);
    }
    return loaded;
}
/**
 * Pushes the base images this build used and the cache did not have into the layout, and records the
 * names of all it used: the tags to keep. (What pulling them cost is measured apart, in pulled.ts: a
 * push re-compresses, so the cache's copy says nothing about the bytes the pull fetched.)
 */
async function saveBaseImages(registry, bridge, refs, loaded, env) {
    const names = {};
    for (const ref of refs) {
        const tag = baseImageTag(ref);
        if (loaded.has(ref) || registry.touched.has(tag)) {
            names[tag] = ref;
            continue;
        }
        if ((await podman(['image', 'exists', ref], env)).code !== 0)
            continue;
        registry.label = `base:${ref}`;
        const pushed = await podman(['push', '--quiet', ref, `${bridge}/${tag}`], env);
        if (pushed.code !== 0) {
            lib_core/* warning */.$e(`base image ${ref} could not be saved into the cache: ${reason(pushed)}`);
            continue;
        }
        names[tag] = ref;
    }
    await writeFileAtomicIfChanged(external_node_path_.join(registry.layout.dir, BASE_IMAGES_FILE), JSON.stringify(names, null, 2) + '\n');
    return new Set(Object.keys(names));
}

;// CONCATENATED MODULE: ./src/podman/build-log.ts
/**
 * Reads what podman-compose and podman build print, line by line, into per-image step counts and
 * failures. The caller starts each image's build (`begin`): podman-compose 1.3 prints no build command.
 * podman-compose 1.0.x exits 0 when a build fails, so podman's own `exit code: N` line (and its
 * `Error:` line) are the only reliable signal there.
 */
// `[2/3] STEP 1/4: FROM x AS y` (multi-stage) or `STEP 1/4: FROM x`.
const STEP = /^(?:\[(\d+)\/\d+\]\s+)?STEP (\d+)\/(\d+): (.*)$/;
const FROM = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i;
const EXIT_CODE = /^exit code: (-?\d+)$/;
const STEP_IMAGE = /^--> (?:Using cache )?([a-f0-9]{11,64})$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;
class BuildLog {
    builds = [];
    stageSteps = new Map();
    stageNames = new Set();
    lastStep = null;
    stepCached = false;
    stepPulled = false;
    get current() {
        return this.builds[this.builds.length - 1];
    }
    line(raw, now = Date.now()) {
        const text = raw.trim();
        const build = this.current;
        if (!build)
            return;
        build.endedAt = now;
        const step = STEP.exec(text);
        if (step)
            return this.step(build, step[1] ?? '1', Number(step[3]), step[4], text);
        const stepImage = STEP_IMAGE.exec(text);
        if (stepImage)
            build.stepImages.push({ id: stepImage[1], cached: text.startsWith('--> Using cache') });
        if (IMAGE_ID.test(text))
            build.imageId = text;
        else if (text.startsWith('--> Using cache')) {
            if (!this.stepCached)
                build.reused++;
            this.stepCached = true;
        }
        else if (text.startsWith('--> Cache pulled from remote')) {
            if (!this.stepPulled)
                build.pulled++;
            this.stepPulled = true;
        }
        else if (EXIT_CODE.test(text))
            this.exit(build, Number(EXIT_CODE.exec(text)[1]));
        else if (/^Error: /.test(text) && build.error === null)
            build.error = text.slice('Error: '.length);
    }
    /** podman-compose's exit status for the current build (≥ 1.1, one service: that build's), applied unless 1.0.x printed one. */
    finish(exitCode) {
        const build = this.current;
        if (build && build.exitCode === null)
            this.exit(build, exitCode);
    }
    failures() {
        return this.builds.filter(b => b.exitCode !== null && b.exitCode !== 0);
    }
    /** The lines from now on are `image`'s build. */
    begin(image, now = Date.now()) {
        this.stageSteps = new Map();
        this.stageNames = new Set();
        this.lastStep = null;
        const build = {
            image,
            steps: 0,
            reused: 0,
            pulled: 0,
            baseImages: [],
            stepImages: [],
            imageId: null,
            exitCode: null,
            failedStep: null,
            error: null,
            startedAt: now,
            endedAt: now
        };
        this.builds.push(build);
        return build;
    }
    step(build, stage, total, instruction, text) {
        this.lastStep = text;
        this.stepCached = false;
        this.stepPulled = false;
        if (!this.stageSteps.has(stage)) {
            this.stageSteps.set(stage, total);
            build.steps += total - 1;
        }
        const from = FROM.exec(instruction);
        if (!from)
            return;
        const ref = from[1];
        const earlierStage = this.stageNames.has(ref.toLowerCase());
        if (from[2])
            this.stageNames.add(from[2].toLowerCase());
        if (ref !== 'scratch' && !earlierStage && !build.baseImages.includes(ref))
            build.baseImages.push(ref);
    }
    exit(build, code) {
        build.exitCode = code;
        if (code !== 0)
            build.failedStep = this.lastStep;
    }
}

;// CONCATENATED MODULE: ./src/podman/compose.ts



/**
 * `podman-compose build SERVICE` once per service, with the layer-cache flags handed to every `podman
 * build` through `--podman-build-args=…` (podman-compose 1.0.x and newer split it like a shell; one word,
 * because argparse takes a lone `--layers` after `--podman-build-args` for an option of its own). The
 * output is streamed to the log and parsed as it comes.
 *
 * One service per run, because podman-compose 1.1+ builds all services at once: their podman builds
 * write straight to one shared stdout with nothing naming the service (1.3 prints no build command
 * either), and the layer cache sees only cache keys, so neither the log lines nor the registry's bytes
 * could be attributed to a service. Each run's exit status is then that one build's (1.3 returns the
 * status of whichever build finished last, 0 when a failed one finished first; 1.0.x always 0 and
 * prints `exit code: N`), and the image is checked to exist afterwards.
 */
async function composeBuild(compose, cacheFlags, env, onImage) {
    const log = new BuildLog();
    let lastError = null;
    let exitCode = 0;
    const buildArgs = [...cacheFlags, ...(compose.isolation ? [`--isolation=${compose.isolation}`] : []), compose.buildArgs]
        .filter(Boolean)
        .join(' ');
    for (const service of servicesToBuild(compose)) {
        onImage(service.image);
        const build = log.begin(service.image);
        let serviceError = null;
        const args = ['-f', compose.composeFile, ...(buildArgs ? [`--podman-build-args=${buildArgs}`] : []), 'build', service.name];
        const code = await exec/* exec */.m('podman-compose', args, {
            ignoreReturnCode: true,
            cwd: compose.workspace,
            // Unbuffered, so podman-compose's own lines (`exit code: N`) arrive in order with podman's.
            env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' },
            listeners: {
                stdline: line => log.line(line),
                errline: line => {
                    log.line(line);
                    if (line.trim())
                        serviceError = line.trim();
                }
            }
        });
        log.finish(code);
        if (build.exitCode !== 0 && build.error === null)
            build.error = serviceError;
        if (build.exitCode === 0)
            await checkImage(build, env);
        if (serviceError)
            lastError = serviceError;
        if (exitCode === 0 && code !== 0)
            exitCode = code;
    }
    return { exitCode, log, lastError };
}
/** The services named by compose-services, else every service with a build section and no profile (as podman-compose builds them). */
function servicesToBuild(compose) {
    if (compose.composeServices.length === 0)
        return compose.services.filter(service => !service.profiles);
    return compose.composeServices.map(name => compose.services.find(service => service.name === name) ?? { name, image: name });
}
/**
 * A build counts as done only when podman printed the ID of the image it made and the service's image is
 * that one in storage: podman-compose's exit status alone has said 0 for builds that failed (1.0.x; 1.3
 * with several services) or never ran.
 */
async function checkImage(build, env) {
    if (build.imageId === null) {
        build.exitCode = -1;
        build.error = `podman-compose exited 0, but podman printed no image ID: ${build.image} was not built`;
        return;
    }
    const inspected = await podman(['image', 'inspect', '--format', '{{.Id}}', build.image], env);
    const id = inspected.code === 0 ? inspected.stdout.trim() : '';
    if (id !== build.imageId) {
        build.exitCode = -1;
        build.error = `podman-compose exited 0, but ${id ? `${build.image} is ${id.slice(0, 12)}, not the ${build.imageId.slice(0, 12)} podman built` : `there is no image ${build.image}`}`;
    }
}

;// CONCATENATED MODULE: ./src/podman/pulled.ts





async function storageBaseline(env) {
    const imageIds = await localImageIds(env);
    const records = await readStorageRecords(env).catch(() => null);
    return { imageIds, blobs: records ? new Set([...records.layers.values()].flatMap(blobDigests)) : null };
}
/**
 * The bytes each base image's pull fetched from its registry, from what containers-storage recorded when
 * it stored the pull: each manifest fetched (the tag's index too, when it names one) and the config, byte
 * for byte, and each layer blob at its compressed size, as the registry sent it. A layer whose blob
 * (compressed or uncompressed digest) storage already had is not fetched again, so it counts once per
 * build at most, and an image whose ID was in storage before the build was not pulled at all: 0. `podman
 * image inspect` knows only uncompressed sizes, which is what a base image counted at when these records
 * cannot be read: more than crossed the wire, and said so in a warning.
 */
async function bytesPulled(refs, before, env) {
    const pulled = new Map();
    const ids = new Map();
    for (const ref of refs) {
        const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', ref], env)).stdout.trim();
        if (!id)
            continue;
        if (before.imageIds.has(id))
            pulled.set(ref, 0);
        else
            ids.set(ref, id);
    }
    if (ids.size === 0)
        return pulled;
    let records = null;
    try {
        if (before.blobs === null)
            throw new Error('they could not be read before the build');
        records = await readStorageRecords(env);
    }
    catch (error) {
        lib_core/* warning */.$e(`podman: containers-storage's records of the pulls could not be read (${stringifyError(error)}); base images pulled are counted at their uncompressed size, more than crossed the wire`);
    }
    const fetched = new Set(before.blobs ?? []);
    for (const [ref, id] of ids) {
        const image = records?.images.get(id);
        pulled.set(ref, image && records ? pullSize(image, records.layers, fetched) : await uncompressedSize(ref, env));
    }
    return pulled;
}
/** Manifests and config as stored, plus the layer blobs not in `fetched` yet (which it then holds). */
function pullSize(image, layers, fetched) {
    const config = `sha256:${image.id}`;
    let bytes = 0;
    for (const [key, size] of Object.entries(image['big-data-sizes'] ?? {}))
        if (key.startsWith('manifest-') || key === config)
            bytes += size;
    for (let layer = layers.get(image.layer ?? ''); layer; layer = layers.get(layer.parent ?? '')) {
        const digests = blobDigests(layer);
        if (digests.some(digest => fetched.has(digest)))
            continue;
        for (const digest of digests)
            fetched.add(digest);
        bytes += layer['compressed-size'] ?? layer['diff-size'] ?? 0;
    }
    return bytes;
}
function blobDigests(layer) {
    return [layer['compressed-diff-digest'], layer['diff-digest']].filter((d) => typeof d === 'string' && d !== '');
}
/** images.json and layers.json of the storage podman uses here (a fresh storage has neither yet). */
async function readStorageRecords(env) {
    const info = await podman(['info', '--format', '{{.Store.GraphRoot}}\n{{.Store.GraphDriverName}}'], env);
    const [graphRoot, driver] = info.stdout.trim().split('\n');
    if (info.code !== 0 || !graphRoot || !driver)
        throw new Error(`podman info: ${reason(info)}`);
    const images = (await readJson(external_node_path_.join(graphRoot, `${driver}-images`, 'images.json'))) ?? [];
    const layers = (await readJson(external_node_path_.join(graphRoot, `${driver}-layers`, 'layers.json'))) ?? [];
    return { images: new Map(images.map(i => [i.id, i])), layers: new Map(layers.map(l => [l.id, l])) };
}
async function uncompressedSize(ref, env) {
    return Number((await podman(['image', 'inspect', '--format', '{{.Size}}', ref], env)).stdout.trim()) || 0;
}
/** IDs of every image in podman's storage. */
async function localImageIds(env) {
    const listed = await podman(['images', '--all', '--quiet', '--no-trunc'], env);
    return new Set(listed.stdout
        .split('\n')
        .map(line => line.trim().replace(/^sha256:/, ''))
        .filter(Boolean));
}

;// CONCATENATED MODULE: ./src/podman/registries-conf.ts



/**
 * A private registries.conf: the one podman would read anyway, plus `insecure = true` (plain HTTP) for
 * exactly the bridge's host:port. Handed to podman through CONTAINERS_REGISTRIES_CONF for qdc's own
 * commands only, so upstream pulls keep TLS verification (`--tls-verify=false` would drop it for every
 * registry the build touches) and later steps of the job never see it. Drop-in directories still apply.
 */
async function writeRegistriesConf(dir, bridgeHost) {
    const base = await currentRegistriesConf();
    const file = external_node_path_.join(dir, 'registries.conf');
    const entry = `\n# qdc-action: the layer-cache bridge on loopback speaks plain HTTP\n[[registry]]\nlocation = "${bridgeHost}"\ninsecure = true\n`;
    await promises_.writeFile(file, `${base}\n${entry}`);
    return file;
}
async function currentRegistriesConf() {
    const candidates = [
        process.env.CONTAINERS_REGISTRIES_CONF,
        external_node_path_.join(process.env.XDG_CONFIG_HOME || external_node_path_.join(external_node_os_.homedir(), '.config'), 'containers', 'registries.conf'),
        '/etc/containers/registries.conf'
    ];
    for (const candidate of candidates) {
        if (!candidate)
            continue;
        const text = await promises_.readFile(candidate, 'utf8').catch(() => null);
        if (text !== null)
            return text;
    }
    return '';
}

;// CONCATENATED MODULE: ./src/podman/step-images.ts


/**
 * The layer cache without `--cache-from/--cache-to`: the step images `podman build --layers` leaves in
 * storage are pushed into the cache directory after the build and pulled back, nameless, before the
 * next one, where `--layers` finds them as its own. For podman older than 4.2, which has no cache
 * flags, and wherever they misbehave (`podman-cache-mode: images`).
 */
const STEP_REPOSITORY = 'qdc-steps';
/** Pulls every step image the cache holds; returns the bytes served for each, by image ID. */
async function loadStepImages(registry, bridge, env) {
    const loaded = new Map();
    for (const id of registry.layout.tags(STEP_REPOSITORY)) {
        const name = `${bridge}/${STEP_REPOSITORY}:${id}`;
        registry.label = `step:${id}`;
        const pulled = await podman(['pull', '--quiet', name], env);
        if (pulled.code !== 0) {
            lib_core/* warning */.$e(`step image ${id.slice(0, 12)} could not be loaded from the cache (${reason(pulled)}); its step will be built`);
            continue;
        }
        // Back to how the build left it: an image without a name, which is what --layers looks for.
        await podman(['untag', name, name], env);
        loaded.set(id, registry.trafficOf(registry.label).servedBytes);
    }
    lib_core/* info */.pq(`layer cache: ${loaded.size} step image(s) loaded`);
    return loaded;
}
/**
 * Pushes the step images of these builds that the cache lacks, with each build's bytes counted under
 * its image; returns the tags of every step image the builds used, the ones to keep.
 */
async function saveStepImages(registry, bridge, builds, env) {
    const stored = new Set(registry.layout.tags(STEP_REPOSITORY));
    const used = new Set();
    for (const build of builds) {
        registry.label = build.image;
        for (const step of build.stepImages) {
            const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', step.id], env)).stdout.trim();
            if (!/^[a-f0-9]{64}$/.test(id))
                continue;
            used.add(`${STEP_REPOSITORY}:${id}`);
            if (stored.has(id))
                continue;
            const pushed = await podman(['push', '--quiet', id, `${bridge}/${STEP_REPOSITORY}:${id}`], env);
            if (pushed.code === 0)
                stored.add(id);
            else
                lib_core/* warning */.$e(`step image ${id.slice(0, 12)} could not be saved into the cache: ${reason(pushed)}`);
        }
    }
    return used;
}
/** Bytes of the step images this build found in the cache, as loaded before it. */
function stepBytesReused(build, loaded) {
    return build.stepImages.filter(step => step.cached).reduce((total, step) => total + (loaded.get(step.id) ?? 0), 0);
}

// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(6466);
;// CONCATENATED MODULE: ./src/podman/registry/layout.ts







/** OCI image-layout annotation naming a manifest; qdc writes `<repository>:<tag>` so one layout holds many repositories. */
const REF_NAME = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
/** In-progress uploads; inside the cache dir so a finished blob is a rename, never a copy. Never saved. */
const UPLOADS_DIR = '.uploads';
const DIGEST = /^sha256:([a-f0-9]{64})$/;
class DigestMismatch extends Error {
}
function hexOf(digest) {
    return DIGEST.exec(digest)?.[1] ?? null;
}
/**
 * An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/*`) used as a registry's storage. Blobs
 * are only ever published by renaming a fully written, fsynced file whose SHA-256 matched, so a crash or
 * a bad upload never leaves a blob whose name lies about its content.
 */
class OciLayout {
    dir;
    index = { schemaVersion: 2, manifests: [] };
    indexWrite = Promise.resolve();
    constructor(dir) {
        this.dir = dir;
    }
    async open() {
        await promises_.mkdir(external_node_path_.join(this.dir, 'blobs', 'sha256'), { recursive: true });
        await promises_.rm(external_node_path_.join(this.dir, UPLOADS_DIR), { recursive: true, force: true });
        await promises_.mkdir(external_node_path_.join(this.dir, UPLOADS_DIR), { recursive: true });
        if ((await readJson(external_node_path_.join(this.dir, LAYOUT_FILE))) === null) {
            await atomic_writeFileAtomic(external_node_path_.join(this.dir, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
        }
        const index = await readJson(external_node_path_.join(this.dir, INDEX_FILE));
        if (index && Array.isArray(index.manifests))
            this.index = { ...index, manifests: index.manifests.filter(isNamed) };
    }
    blobPath(digest) {
        const hex = hexOf(digest);
        if (!hex)
            throw new Error(`not a sha256 digest: ${digest}`);
        return external_node_path_.join(this.dir, 'blobs', 'sha256', hex);
    }
    async blobSize(digest) {
        if (!hexOf(digest))
            return null;
        const stat = await promises_.stat(this.blobPath(digest)).catch(() => null);
        return stat?.isFile() ? stat.size : null;
    }
    readBlob(digest) {
        return (0,external_node_fs_.createReadStream)(this.blobPath(digest));
    }
    /** The manifest tagged `repository:tag`, or null. */
    tagged(repository, tag) {
        return this.index.manifests.find(m => m.annotations?.[REF_NAME] === `${repository}:${tag}`) ?? null;
    }
    tags(repository) {
        const prefix = `${repository}:`;
        return this.index.manifests
            .map(m => m.annotations[REF_NAME])
            .filter(n => n.startsWith(prefix))
            .map(n => n.slice(prefix.length));
    }
    refNames() {
        return this.index.manifests.map(m => m.annotations[REF_NAME]);
    }
    descriptorOf(digest) {
        return this.index.manifests.find(m => m.digest === digest) ?? null;
    }
    newUploadPath() {
        return external_node_path_.join(this.dir, UPLOADS_DIR, external_node_crypto_.randomUUID());
    }
    /** Appends a request body to an upload file; returns the upload's new length. */
    async appendUpload(file, body) {
        await (0,external_node_stream_promises_.pipeline)(body, (0,external_node_fs_.createWriteStream)(file, { flags: 'a' }));
        return (await promises_.stat(file)).size;
    }
    async uploadLength(file) {
        return (await promises_.stat(file).catch(() => null))?.size ?? 0;
    }
    /** Verifies an upload against `digest`, then publishes it as a blob; the upload is gone either way. */
    async commitUpload(file, digest) {
        try {
            // Already there: nothing to check or write, and leaving the file alone keeps an unchanged cache unchanged.
            const existing = await this.blobSize(digest);
            if (existing !== null)
                return existing;
            // On a worker thread: this process serves podman's other requests meanwhile.
            const { digests } = await digestFile({ path: file }, await this.uploadLength(file), [{ algorithm: 'sha256' }]);
            if (`sha256:${digests[0]}` !== digest)
                throw new DigestMismatch(`upload is sha256:${digests[0]}, not ${digest}`);
            await syncPath(file);
            await promises_.rename(file, this.blobPath(digest));
            await syncPath(external_node_path_.dirname(this.blobPath(digest)));
            return (await promises_.stat(this.blobPath(digest))).size;
        }
        finally {
            await promises_.rm(file, { force: true });
        }
    }
    async putManifest(repository, reference, body, mediaType) {
        const digest = `sha256:${external_node_crypto_.createHash('sha256').update(body).digest('hex')}`;
        if (hexOf(reference) === null && reference.startsWith('sha256:'))
            throw new DigestMismatch(`bad digest ${reference}`);
        if (reference.startsWith('sha256:') && reference !== digest)
            throw new DigestMismatch(`manifest is ${digest}, not ${reference}`);
        if ((await this.blobSize(digest)) === null)
            await atomic_writeFileAtomic(this.blobPath(digest), body);
        const descriptor = { mediaType, digest, size: body.length };
        if (!reference.startsWith('sha256:')) {
            const name = `${repository}:${reference}`;
            descriptor.annotations = { [REF_NAME]: name };
            // A tag pushed again keeps its place, so re-pushing what is there rewrites nothing.
            const at = this.index.manifests.findIndex(m => m.annotations?.[REF_NAME] === name);
            if (at < 0)
                this.index.manifests.push(descriptor);
            else
                this.index.manifests[at] = descriptor;
            await this.writeIndex();
        }
        return descriptor;
    }
    /**
     * Keeps only the named manifests and the blobs they reach (config, layers, child manifests); deletes
     * the rest. Returns the bytes deleted.
     */
    async retainOnly(refNames) {
        this.index.manifests = this.index.manifests.filter(m => refNames.has(m.annotations[REF_NAME]));
        await this.writeIndex();
        const reachable = new Set();
        for (const m of this.index.manifests)
            await this.markReachable(m.digest, reachable);
        let removedBytes = 0;
        let removedBlobs = 0;
        const blobDir = external_node_path_.join(this.dir, 'blobs', 'sha256');
        for (const hex of await promises_.readdir(blobDir)) {
            if (reachable.has(hex))
                continue;
            const file = external_node_path_.join(blobDir, hex);
            removedBytes += (await promises_.stat(file)).size;
            await promises_.rm(file, { force: true });
            removedBlobs++;
        }
        return { removedBytes, removedBlobs, keptManifests: this.index.manifests.length };
    }
    async close() {
        await this.indexWrite;
        await promises_.rm(external_node_path_.join(this.dir, UPLOADS_DIR), { recursive: true, force: true });
    }
    async markReachable(digest, reachable) {
        const hex = hexOf(digest);
        if (!hex || reachable.has(hex))
            return;
        const size = await this.blobSize(digest);
        if (size === null)
            return;
        reachable.add(hex);
        if (size > 4 * 1024 * 1024)
            return; // a layer, not a manifest
        const manifest = await readJson(this.blobPath(digest)).catch(() => null);
        if (!manifest || typeof manifest !== 'object')
            return;
        const children = [manifest.config, ...(manifest.layers ?? []), ...(manifest.manifests ?? [])];
        for (const child of children)
            if (child?.digest)
                await this.markReachable(child.digest, reachable);
    }
    /** Serialised so two manifest PUTs in flight cannot interleave their index rewrites. */
    writeIndex() {
        const snapshot = JSON.stringify({ ...this.index, schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' });
        this.indexWrite = this.indexWrite.then(() => writeFileAtomicIfChanged(external_node_path_.join(this.dir, INDEX_FILE), snapshot));
        return this.indexWrite;
    }
}
function isNamed(m) {
    return typeof m?.digest === 'string' && typeof m.annotations?.[REF_NAME] === 'string';
}

;// CONCATENATED MODULE: ./src/podman/registry/server.ts




const MANIFEST_TYPES = [
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.docker.distribution.manifest.list.v2+json'
];
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/;
/**
 * An OCI distribution registry, on 127.0.0.1 only, over an OCI image layout: what podman and buildah need
 * to push and pull images and `--cache-to/--cache-from` tags (monolithic and chunked uploads, HEAD, tags
 * list). It records every repository:tag read or written, which is the set of cache images this build
 * used, and the bytes sent and received under the current label.
 */
class LayoutRegistry {
    layout;
    /** repository:tag names read (found) or written since start. */
    touched = new Set();
    traffic = new Map();
    /** Attributes traffic to whatever is happening now (the service being built); set by the caller. */
    label = 'other';
    /**
     * Requests dropped because their connection went `idleTimeoutMs` without a byte either way (podman
     * stopped sending an upload or reading a blob): `PATCH /v2/buildcache/blobs/uploads/<id>: no byte for 60 s`.
     */
    stalls = [];
    server = null;
    uploads = new Map();
    idleTimeoutMs;
    constructor(dir, options = {}) {
        this.layout = new OciLayout(dir);
        this.idleTimeoutMs = options.idleTimeoutMs ?? idle_DEFAULT_IDLE_TIMEOUT_MS;
    }
    /** Listens on 127.0.0.1 at a free port (or `port`); returns `127.0.0.1:<port>`. */
    async start(port = 0) {
        await this.layout.open();
        const inFlight = new WeakMap();
        const server = external_node_http_.createServer((req, res) => {
            inFlight.set(req.socket, `${req.method} ${req.url?.split('?')[0]}`);
            res.once('close', () => inFlight.delete(req.socket));
            this.handle(req, res).catch(error => {
                if (!res.headersSent)
                    sendError(res, 500, 'UNKNOWN', String(error));
                else
                    res.destroy();
            });
        });
        // Node's socket timeout is an idle timeout: any byte read or written re-arms it. A connection kept
        // alive between requests is closed by keepAliveTimeout long before, and one that times out idle is
        // nothing to report.
        server.setTimeout(this.idleTimeoutMs, (socket) => {
            const request = inFlight.get(socket);
            if (request)
                this.stalls.push(new IdleTimeoutError(this.idleTimeoutMs, request).message);
            socket.destroy();
        });
        await new Promise((resolve, reject) => {
            server.once('error', reject);
            server.listen(port, '127.0.0.1', () => resolve());
        });
        this.server = server;
        return `127.0.0.1:${server.address().port}`;
    }
    async stop() {
        const server = this.server;
        this.server = null;
        if (server) {
            server.closeAllConnections();
            await new Promise(resolve => server.close(() => resolve()));
        }
        await this.layout.close();
    }
    trafficOf(label) {
        let traffic = this.traffic.get(label);
        if (!traffic) {
            traffic = { servedBytes: 0, receivedBytes: 0 };
            this.traffic.set(label, traffic);
        }
        return traffic;
    }
    async handle(req, res) {
        res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
        const url = new URL(req.url ?? '/', 'http://registry');
        if (url.pathname === '/v2/' || url.pathname === '/v2')
            return sendJson(res, 200, {});
        const match = ROUTE.exec(url.pathname);
        if (!match)
            return sendError(res, 404, 'NAME_UNKNOWN', 'not found');
        const [, repository, area, rest] = match;
        const method = req.method ?? 'GET';
        if (area === 'tags' && rest === 'list' && method === 'GET') {
            return sendJson(res, 200, { name: repository, tags: this.layout.tags(repository) });
        }
        if (area === 'manifests')
            return this.manifest(method, repository, decodeURIComponent(rest), req, res);
        if (area === 'blobs' && rest.startsWith('uploads'))
            return this.upload(method, repository, rest.slice('uploads'.length).replace(/^\//, ''), url, req, res);
        if (area === 'blobs' && (method === 'GET' || method === 'HEAD'))
            return this.blob(method, decodeURIComponent(rest), res);
        sendError(res, 405, 'UNSUPPORTED', `${method} ${url.pathname}`);
    }
    async manifest(method, repository, reference, req, res) {
        if (method === 'PUT') {
            const body = await readBody(req, MAX_MANIFEST_BYTES);
            const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim() || mediaTypeOf(body);
            try {
                const descriptor = await this.layout.putManifest(repository, reference, body, mediaType);
                if (!reference.startsWith('sha256:'))
                    this.touched.add(`${repository}:${reference}`);
                this.trafficOf(this.label).receivedBytes += body.length;
                res.setHeader('Location', `/v2/${repository}/manifests/${descriptor.digest}`);
                res.setHeader('Docker-Content-Digest', descriptor.digest);
                res.writeHead(201).end();
            }
            catch (error) {
                if (error instanceof DigestMismatch)
                    return sendError(res, 400, 'DIGEST_INVALID', error.message);
                throw error;
            }
            return;
        }
        if (method !== 'GET' && method !== 'HEAD')
            return sendError(res, 405, 'UNSUPPORTED', method);
        const byDigest = reference.startsWith('sha256:');
        const descriptor = byDigest ? this.layout.descriptorOf(reference) : this.layout.tagged(repository, reference);
        const digest = byDigest ? reference : descriptor?.digest;
        const size = digest ? await this.layout.blobSize(digest) : null;
        if (!digest || size === null)
            return sendError(res, 404, 'MANIFEST_UNKNOWN', `${repository}:${reference} not found`);
        if (!byDigest)
            this.touched.add(`${repository}:${reference}`);
        const body = method === 'GET' || !descriptor ? await readAll(this.layout, digest) : null;
        res.setHeader('Content-Type', descriptor?.mediaType ?? mediaTypeOf(body));
        res.setHeader('Docker-Content-Digest', digest);
        res.setHeader('Content-Length', size);
        if (method === 'HEAD')
            return void res.writeHead(200).end();
        this.trafficOf(this.label).servedBytes += size;
        res.writeHead(200).end(body);
    }
    async blob(method, digest, res) {
        const size = await this.layout.blobSize(digest);
        if (size === null)
            return sendError(res, 404, 'BLOB_UNKNOWN', `${digest} not found`);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Docker-Content-Digest', digest);
        res.setHeader('Content-Length', size);
        if (method === 'HEAD')
            return void res.writeHead(200).end();
        res.writeHead(200);
        this.trafficOf(this.label).servedBytes += size;
        await (0,external_node_stream_promises_.pipeline)(this.layout.readBlob(digest), res);
    }
    async upload(method, repository, id, url, req, res) {
        if (method === 'POST') {
            const mount = url.searchParams.get('mount');
            if (mount && (await this.layout.blobSize(mount)) !== null) {
                req.resume();
                return this.created(res, repository, mount);
            }
            const file = this.layout.newUploadPath();
            const uuid = file.slice(file.lastIndexOf('/') + 1);
            this.uploads.set(uuid, file);
            const length = await this.layout.appendUpload(file, req);
            const digest = url.searchParams.get('digest');
            if (digest)
                return this.finish(res, repository, uuid, digest);
            return this.accepted(res, repository, uuid, length);
        }
        const file = this.uploads.get(id);
        if (!file)
            return sendError(res, 404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} not found`);
        if (method === 'PATCH')
            return this.accepted(res, repository, id, await this.layout.appendUpload(file, req));
        if (method === 'PUT') {
            await this.layout.appendUpload(file, req);
            return this.finish(res, repository, id, url.searchParams.get('digest') ?? '');
        }
        if (method === 'GET')
            return this.accepted(res, repository, id, await this.layout.uploadLength(file), 204);
        if (method === 'DELETE') {
            this.uploads.delete(id);
            req.resume();
            return void res.writeHead(204).end();
        }
        sendError(res, 405, 'UNSUPPORTED', method);
    }
    async finish(res, repository, uuid, digest) {
        const file = this.uploads.get(uuid);
        this.uploads.delete(uuid);
        if (!hexOf(digest))
            return sendError(res, 400, 'DIGEST_INVALID', `bad digest '${digest}'`);
        try {
            this.trafficOf(this.label).receivedBytes += await this.layout.commitUpload(file, digest);
        }
        catch (error) {
            if (error instanceof DigestMismatch)
                return sendError(res, 400, 'DIGEST_INVALID', error.message);
            throw error;
        }
        this.created(res, repository, digest);
    }
    created(res, repository, digest) {
        res.setHeader('Location', `/v2/${repository}/blobs/${digest}`);
        res.setHeader('Docker-Content-Digest', digest);
        res.writeHead(201).end();
    }
    accepted(res, repository, uuid, length, status = 202) {
        res.setHeader('Location', `/v2/${repository}/blobs/uploads/${uuid}`);
        res.setHeader('Docker-Upload-UUID', uuid);
        res.setHeader('Range', `0-${Math.max(0, length - 1)}`);
        res.setHeader('Content-Length', 0);
        res.writeHead(status).end();
    }
}
function sendJson(res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
/** The distribution spec's error body, so clients print the reason. */
function sendError(res, status, code, message) {
    sendJson(res, status, { errors: [{ code, message }] });
}
async function readBody(req, limit) {
    const chunks = [];
    let length = 0;
    for await (const chunk of req) {
        length += chunk.length;
        if (length > limit)
            throw new Error(`body larger than ${limit} bytes`);
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}
async function readAll(layout, digest) {
    const chunks = [];
    for await (const chunk of layout.readBlob(digest))
        chunks.push(chunk);
    return Buffer.concat(chunks);
}
function mediaTypeOf(body) {
    try {
        const parsed = JSON.parse(body.toString('utf8'));
        if (parsed.mediaType && MANIFEST_TYPES.includes(parsed.mediaType))
            return parsed.mediaType;
        return parsed.manifests ? MANIFEST_TYPES[1] : MANIFEST_TYPES[0];
    }
    catch {
        return MANIFEST_TYPES[0];
    }
}

;// CONCATENATED MODULE: ./src/podman/run.ts














/** podman 4.2 (buildah 1.27) is the first with working --cache-from/--cache-to; before that they are no-ops. */
const CACHE_FLAGS_SINCE = [4, 2];
/** The repository in the layout that holds one cache image per build step, tagged by buildah's cache key. */
const CACHE_REPOSITORY = 'buildcache';
/**
 * `podman-compose build` with the podman kind's directory served as the layer cache and its base images
 * loaded first. The services built go on the entry (so post reports them) before a failing build throws;
 * a cache that cannot be served throws too, rather than building without the cache the user asked for.
 */
async function buildWithLayerCache(build, entry) {
    const failures = await lib_core/* group */.Os('Build (podman-compose)', async () => {
        const version = await checkTools();
        return buildWithCache(build, entry, cacheMode(build.cacheMode, version));
    });
    if (failures.length > 0)
        throw new Error(failures.map(describeFailure).join('; '));
}
async function checkTools() {
    const version = await toolVersion('podman');
    if (!version)
        throw new Error('compose-file is set but podman is not installed; install podman ≥ 4.2 (e.g. apt-get install podman podman-compose)');
    if ((await probe('podman-compose', ['--version'])) === null) {
        throw new Error('compose-file is set but podman-compose is not installed; install it (apt-get install podman-compose, or pip install podman-compose)');
    }
    return version;
}
/** `registry`: --cache-from/--cache-to through the bridge; `images`: the step images themselves (src/build/step-images.ts). */
function cacheMode(asked, version) {
    if (asked === 'images')
        return 'images';
    if (versionAtLeast(version, CACHE_FLAGS_SINCE))
        return 'registry';
    const why = `podman ${version} has no --cache-from/--cache-to (they need podman ≥ 4.2), so the layer cache keeps the step images instead`;
    if (asked === 'registry')
        lib_core/* warning */.$e(why);
    else
        lib_core/* info */.pq(why);
    return 'images';
}
async function buildWithCache(build, entry, mode) {
    const registry = new LayoutRegistry(build.dir, { idleTimeoutMs: build.idleTimeoutMs });
    let bridge;
    try {
        bridge = await registry.start();
    }
    catch (error) {
        throw new Error(`the layer cache in ${build.dir} could not be served on 127.0.0.1 (${stringifyError(error)}); the build was not run`, {
            cause: error
        });
    }
    const confDir = await promises_.mkdtemp(external_node_path_.join(temp_runnerTemp(), 'qdc-podman-'));
    try {
        const env = { CONTAINERS_REGISTRIES_CONF: await writeRegistriesConf(confDir, bridge) };
        lib_core/* info */.pq(`layer cache: ${build.dir} served as ${bridge}/${CACHE_REPOSITORY}`);
        const loaded = await loadBaseImages(registry, bridge, env);
        const steps = mode === 'images' ? await loadStepImages(registry, bridge, env) : new Map();
        const before = await storageBaseline(env);
        const repo = `${bridge}/${CACHE_REPOSITORY}`;
        const flags = mode === 'registry' ? ['--layers', '--cache-from', repo, '--cache-to', repo] : ['--layers'];
        const run = await composeBuild(build, flags, env, image => (registry.label = image));
        const succeeded = run.exitCode === 0 && run.log.failures().length === 0;
        const usedBases = [...new Set(run.log.builds.flatMap(b => b.baseImages))];
        const pulled = await bytesPulled(usedBases.filter(ref => !loaded.has(ref)), before, env);
        const tags = await saveBaseImages(registry, bridge, usedBases, loaded, env);
        const stepTags = mode === 'images' ? await saveStepImages(registry, bridge, run.log.builds, env) : new Set();
        if (succeeded)
            await keepOnlyUsed(registry, new Set([...tags, ...stepTags]));
        return record(build.services, entry, run, registry, { loaded, pulled, steps });
    }
    finally {
        await registry.stop();
        for (const stall of registry.stalls)
            lib_core/* warning */.$e(`podman: the layer cache on ${bridge} dropped a stalled connection: ${stall}`);
        await promises_.rm(confDir, { recursive: true, force: true });
    }
}
/**
 * Drops the cache images this build neither pulled nor pushed, and base and step images it did not use, so the
 * cache follows the Containerfiles instead of growing with every change. Only after a successful build:
 * a failed one did not reach its later steps, whose cache is still good.
 */
async function keepOnlyUsed(registry, usedTags) {
    const keep = new Set([...registry.touched].filter(name => name.startsWith(`${CACHE_REPOSITORY}:`)));
    for (const tag of usedTags)
        keep.add(tag);
    const pruned = await registry.layout.retainOnly(keep);
    lib_core/* info */.pq(`layer cache: kept ${pruned.keptManifests} image(s) this build used; removed ${pruned.removedBlobs} unused blob(s), ${formatBytes(pruned.removedBytes)}`);
}
function record(services, entry, run, registry, bytes) {
    const counted = new Set();
    const built = run.log.builds.map(build => {
        const traffic = registry.trafficOf(build.image);
        // A base image shared by several services is counted once, with the first that used it.
        const bases = build.baseImages.filter(ref => !counted.has(ref));
        bases.forEach(ref => counted.add(ref));
        const service = {
            service: serviceOfImage(build.image, services),
            image: build.image,
            steps: build.steps,
            reusedSteps: build.reused,
            builtSteps: Math.max(0, build.steps - build.reused),
            layerBytesReused: traffic.servedBytes + stepBytesReused(build, bytes.steps),
            layerBytesPushed: traffic.receivedBytes,
            baseBytesReused: sumOf(bases, bytes.loaded),
            baseBytesPulled: sumOf(bases, bytes.pulled),
            buildMs: build.endedAt - build.startedAt,
            failure: build.exitCode !== null && build.exitCode !== 0 ? describeFailure(build) : null
        };
        lib_core/* info */.pq(`${service.service} (${service.image}): ${service.reusedSteps}/${service.steps} steps from the cache (${build.pulled} pulled from it), ${formatBytes(service.layerBytesReused)} reused, ` +
            `${formatBytes(service.layerBytesPushed)} pushed, ${formatDuration(service.buildMs)}`);
        return service;
    });
    entry.details = { services: built };
    const failures = run.log.failures();
    if (run.exitCode !== 0 && failures.length === 0) {
        throw new Error(`podman-compose build failed (exit code ${run.exitCode}): ${run.lastError ?? 'no message'}`);
    }
    return failures;
}
function describeFailure(build) {
    const where = build.failedStep ? ` at ${build.failedStep}` : '';
    return `build of ${build.image} failed${where}: ${build.error ?? `exit code ${build.exitCode}`}`;
}
function sumOf(refs, bytes) {
    return refs.reduce((total, ref) => total + (bytes.get(ref) ?? 0), 0);
}

;// CONCATENATED MODULE: ./src/kinds/podman.ts









/**
 * The layer cache of `podman-compose build`: an OCI layout served to podman as --cache-from/--cache-to (see
 * src/podman/). With a compose file, main builds after the restore; the kind's figures then come from the
 * build, since a layer pushed into the directory was built here, not downloaded: reused is what the
 * loopback registry served, downloaded the blobs the base images' pulls fetched (src/podman/pulled.ts).
 */
const podman_podman = {
    name: 'podman',
    async plan({ config, inPlaceDir }) {
        const version = await toolVersion('podman');
        return {
            parts: [rolePart('podman-layout', inPlaceDir ?? config.podman.dir)],
            exclude: [],
            notes: ['layer-cache directory (an OCI layout served to podman as --cache-from/--cache-to)'],
            keyParts: [...platformParts(), { name: 'podman', value: `podman${version ?? '-none'}`, source: 'podman --version' }],
            droppable: 0,
            inPlace: inPlaceDir !== null,
            data: {
                services: config.podman.composeFile ? composeServices(config.podman.composeFile, config.podman.composeServices) : []
            }
        };
    },
    // The build reads the buildah kind's cache mounts (pip inside RUN --mount=type=cache): those must be in place.
    afterRestoreNeeds: 'every-restore',
    async afterRestore({ config, plan, entry }) {
        const composeFile = config.podman.composeFile;
        if (!composeFile)
            return;
        const { services } = plan.data;
        await buildWithLayerCache({
            ...config.podman,
            dir: plan.spec.parts[0].path,
            composeFile,
            services,
            workspace: config.workspace,
            idleTimeoutMs: config.transfer.idleTimeoutMs
        }, entry);
    },
    account(entry) {
        const services = servicesOf(entry);
        if (!services)
            return null;
        const sum = (figure) => services.reduce((total, s) => total + figure(s), 0);
        const downloadedBytes = sum(s => s.baseBytesPulled);
        const reusedBytes = sum(s => s.layerBytesReused + s.baseBytesReused);
        return {
            downloadedBytes,
            reusedBytes,
            explanation: `Base images from upstream: ${formatBytes(downloadedBytes)}; reused from the layer cache: ${formatBytes(reusedBytes)}; ` +
                `built here and pushed: ${formatBytes(sum(s => s.layerBytesPushed))}`
        };
    },
    summarize(entry) {
        const services = servicesOf(entry);
        return services?.length ? renderServices(services) : [];
    }
};
function servicesOf(entry) {
    return entry.details?.services;
}
/** Checked while planning, so a wrong path or an unknown service fails main with one line before anything is restored. */
function composeServices(file, wanted) {
    if (!external_node_fs_.statSync(file, { throwIfNoEntry: false })?.isFile()) {
        throw new inputs_InputError(constants_Inputs.ComposeFile, `${file} does not exist; give the path of your compose file relative to the workspace`);
    }
    let services;
    try {
        services = readComposeServices(file);
    }
    catch (error) {
        throw new inputs_InputError(constants_Inputs.ComposeFile, stringifyError(error));
    }
    const unknown = wanted.find(name => !services.some(service => service.name === name));
    if (unknown !== undefined) {
        throw new inputs_InputError(constants_Inputs.ComposeServices, `'${unknown}' is not a service with a build section in ${file}; it has ${services.map(s => s.name).join(', ')}`);
    }
    return services;
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

;// CONCATENATED MODULE: ./src/fetch/huggingface/repo.ts
/** Hub names: letters, digits, `-`, `_`, `.`; `--` and `..` are reserved (the cache folder uses `--`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const COMMIT = /^[0-9a-f]{40}$/;
/** Parses `org/name[@revision]` or `datasets/org/name[@revision]`. */
function repo_parseRepoRef(spec) {
    const at = spec.indexOf('@');
    const name = at < 0 ? spec : spec.slice(0, at);
    const revision = at < 0 ? 'main' : spec.slice(at + 1);
    const parts = name.split('/');
    const type = parts.length === 3 && parts[0] === 'datasets' ? 'dataset' : 'model';
    const [org, repo] = type === 'dataset' ? parts.slice(1) : parts;
    const valid = (s) => s !== undefined && NAME.test(s) && !s.includes('--') && !s.includes('..');
    if (parts.length !== (type === 'dataset' ? 3 : 2) || !valid(org) || !valid(repo)) {
        throw new Error(`"${spec}" is not a Hub repo: expected org/name[@revision] or datasets/org/name[@revision]`);
    }
    if (revision === '' || /\s|\.\.|^\/|\/$|\\/.test(revision))
        throw new Error(`"${spec}": bad revision "${revision}"`);
    return { type, id: `${org}/${repo}`, revision };
}
/** `org/name` or `datasets/org/name`: how users and messages name the repo. */
function displayName(ref) {
    return ref.type === 'dataset' ? `datasets/${ref.id}` : ref.id;
}
/**
 * A path from the Hub's listing, accepted only if it stays inside the snapshot: relative, `/`-
 * separated, no `.`/`..`/empty segments, no backslashes or NULs (a hostile or broken API must not
 * make us write outside the cache).
 */
function assertSafeRepoPath(p) {
    const segments = p.split('/');
    const bad = p === '' || p.includes('\\') || p.includes('\0') || /^[A-Za-z]:/.test(p) || segments.some(s => s === '' || s === '.' || s === '..');
    if (bad)
        throw new Error(`the Hub listed an unsafe file path ${JSON.stringify(p)}; refusing to write it`);
}

;// CONCATENATED MODULE: ./src/fetch/huggingface/api.ts



function apiBase(hub, ref) {
    return `${hub.endpoint}/api/${ref.type}s/${ref.id}`;
}
/** The 40-hex commit `ref.revision` points to now; a commit is taken as is, without a request. */
async function resolveCommit(hub, ref) {
    if (COMMIT.test(ref.revision))
        return ref.revision;
    const { json } = await hubJson(hub, ref, `${apiBase(hub, ref)}/revision/${encodeURIComponent(ref.revision)}`);
    const sha = json.sha;
    if (typeof sha !== 'string' || !COMMIT.test(sha))
        throw new Error(`${displayName(ref)}@${ref.revision}: the Hub returned no commit id`);
    return sha;
}
/** Every file at `commit`, following `Link: rel="next"` pages; refuses unsafe paths. */
async function api_listFiles(hub, ref, commit) {
    const files = [];
    let url = `${apiBase(hub, ref)}/tree/${commit}?recursive=true&expand=false`;
    while (url !== undefined) {
        const page = await hubJson(hub, ref, url);
        if (!Array.isArray(page.json))
            throw new Error(`${displayName(ref)}: the tree API did not return a list`);
        for (const entry of page.json) {
            if (entry.type === 'file')
                files.push(treeFile(ref, entry));
        }
        url = nextPage(hub, headerValue(page.headers, 'link'));
    }
    return files;
}
function treeFile(ref, entry) {
    const { path, size, oid, lfs } = entry;
    if (typeof path !== 'string')
        throw new Error(`${displayName(ref)}: tree entry without a path`);
    assertSafeRepoPath(path);
    const sizeOk = (n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (!sizeOk(size) || typeof oid !== 'string' || !/^[0-9a-f]{40}$/.test(oid))
        throw new Error(`${displayName(ref)}: malformed tree entry for ${path}`);
    if (lfs === undefined)
        return { path, size, oid };
    if (typeof lfs.oid !== 'string' || !/^[0-9a-f]{64}$/.test(lfs.oid) || !sizeOk(lfs.size))
        throw new Error(`${displayName(ref)}: malformed LFS entry for ${path}`);
    return { path, size, oid, lfs: { oid: lfs.oid, size: lfs.size } };
}
/** The `rel="next"` target, only if it stays on the Hub: the token follows it. */
function nextPage(hub, link) {
    const target = link?.split(',').find(part => /;\s*rel="?next"?/.test(part));
    const href = target && /<([^>]+)>/.exec(target)?.[1];
    if (!href)
        return undefined;
    const next = new URL(href, hub.endpoint);
    if (next.origin !== hub.credentials.origin)
        throw new Error(`the Hub's tree pagination points to another origin (${next.origin}); refusing to follow it`);
    return next.href;
}
async function hubJson(hub, ref, url) {
    try {
        return await getJson(url, hub.credentials, hub.retry, hub.idleTimeoutMs);
    }
    catch (error) {
        throw explainHubError(error, ref, hub);
    }
}
/** One clear message per Hub error code (huggingface_hub's hf_raise_for_status order); others pass through. */
function explainHubError(error, ref, hub, file) {
    // CDN errors carry no Hub codes; their own message (status, redacted URL, body) says more.
    if (!(error instanceof HttpStatusError) || new URL(error.url).origin !== hub.credentials.origin)
        return error;
    const name = displayName(ref);
    const code = headerValue(error.headers, 'x-error-code');
    const message = headerValue(error.headers, 'x-error-message');
    const authed = hub.credentials.token !== undefined;
    switch (code) {
        case 'RevisionNotFound':
            return new Error(`${name}: revision "${ref.revision}" does not exist`);
        case 'EntryNotFound':
            return new Error(`${name}@${ref.revision}: file ${file ?? '(unknown)'} does not exist`);
        case 'GatedRepo':
            return new Error(authed
                ? `${name} is gated and the hf-token is not approved for it; request access at ${hub.endpoint}/${name}`
                : `${name} is gated: accept its terms at ${hub.endpoint}/${name} and pass an approved hf-token`);
        case 'RepoNotFound':
            return new Error(authed
                ? `${name} does not exist, or the hf-token cannot read it`
                : `${name} does not exist, or is private (pass an hf-token that can read it)`);
    }
    if (error.status === 401)
        return new Error(`the Hub rejected the hf-token (invalid or expired) while reading ${name}`);
    if (message === 'Access to this resource is disabled.')
        return new Error(`${name} has been disabled on the Hub`);
    return new Error(`${name}: HTTP ${error.status} from the Hub${message ? `: ${message}` : ''}`);
}

;// CONCATENATED MODULE: ./src/fetch/huggingface/cache.ts





/**
 * One repo's folder in the hub cache, laid out exactly as huggingface_hub writes it (reference
 * §1.2), so Python and transformers find our files offline:
 * `blobs/<etag>`, `snapshots/<commit>/<path>` → relative symlink, `refs/<revision>` = commit.
 */
class RepoCache {
    root;
    folder;
    dir;
    constructor(root, ref) {
        this.root = root;
        this.folder = `${ref.type}s--${ref.id.replace('/', '--')}`;
        this.dir = external_node_path_.join(root, this.folder);
    }
    blob(etag) {
        return external_node_path_.join(this.dir, 'blobs', etag);
    }
    /** huggingface_hub ≥1.18 temp name: unique per writer, so concurrent writers never share bytes. */
    incomplete(etag) {
        return `${this.blob(etag)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.incomplete`;
    }
    snapshot(commit, repoPath = '') {
        return external_node_path_.join(this.dir, 'snapshots', commit, ...repoPath.split('/').filter(Boolean));
    }
    /** Creates the snapshot folder even when no file was selected: a ref to a missing snapshot is "corrupted". */
    async ensureSnapshot(commit) {
        await (0,promises_.mkdir)(this.snapshot(commit), { recursive: true });
    }
    /** `refs/<revision>` (nested for `refs/pr/1`), 40 hex and no newline: Python reads it without strip. */
    async writeRef(revision, commit) {
        if (revision === commit)
            return;
        await writeFileAtomicIfChanged(external_node_path_.join(this.dir, 'refs', ...revision.split('/')), commit);
    }
    /**
     * Points `snapshots/<commit>/<path>` at the blob with a relative symlink (survives moving the
     * cache), replaced atomically. Where symlinks are refused (Windows without privilege, some
     * filesystems) or disabled, a verified copy takes its place, as huggingface_hub does.
     */
    async link(commit, repoPath, etag, symlinks) {
        const pointer = this.snapshot(commit, repoPath);
        const target = external_node_path_.relative(external_node_path_.dirname(pointer), this.blob(etag));
        await (0,promises_.mkdir)(external_node_path_.dirname(pointer), { recursive: true });
        if ((await (0,promises_.readlink)(pointer).catch(() => undefined)) === target)
            return;
        const temp = `${pointer}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`;
        try {
            if (symlinks) {
                try {
                    await (0,promises_.symlink)(target, temp);
                }
                catch {
                    await (0,promises_.copyFile)(this.blob(etag), temp);
                }
            }
            else {
                await (0,promises_.copyFile)(this.blob(etag), temp);
            }
            await (0,promises_.rename)(temp, pointer);
        }
        finally {
            await (0,promises_.rm)(temp, { force: true });
        }
    }
    /**
     * The full tree listing of `commit`, in huggingface_hub ≥1.22's `trees/<commit>.json` format:
     * Python uses it to detect incomplete snapshots offline, we use it to skip the API on warm runs.
     */
    async writeTree(commit, files) {
        const entries = files.map(f => [f.path, { size: f.size, blob_id: f.oid, ...(f.lfs ? { lfs_sha256: f.lfs.oid, lfs_size: f.lfs.size } : {}) }]);
        await writeFileAtomicIfChanged(this.treeFile(commit), JSON.stringify({ format_version: 1, files: Object.fromEntries(entries) }));
    }
    /** The stored listing, or undefined when absent or in a format we do not know. */
    async readTree(commit) {
        const stored = await readJson(this.treeFile(commit)).catch(() => null);
        if (stored?.format_version !== 1 || typeof stored.files !== 'object' || stored.files === null)
            return undefined;
        return Object.entries(stored.files).map(([p, f]) => ({
            path: p,
            size: f.size,
            oid: f.blob_id,
            ...(f.lfs_sha256 !== undefined ? { lfs: { oid: f.lfs_sha256, size: f.lfs_size ?? f.size } } : {})
        }));
    }
    treeFile(commit) {
        return external_node_path_.join(this.dir, 'trees', `${commit}.json`);
    }
    /**
     * `.locks/<repo folder>/<etag>.lock`, the path huggingface_hub locks. We take it by exclusive
     * create (SoftFileLock-style) and delete it on release. Python's flock-based lock leaves its
     * file behind, which we cannot tell from a held lock, so after `waitMs` we go ahead anyway:
     * the lock only avoids duplicate downloads. Correctness never rests on it (unique temp names,
     * verify before an atomic rename, identical content under one name). Our lock files hold our
     * pid, so one left by a killed run of ours is taken over at once.
     */
    async lock(etag, waitMs) {
        const file = external_node_path_.join(this.root, '.locks', this.folder, `${etag}.lock`);
        await (0,promises_.mkdir)(external_node_path_.dirname(file), { recursive: true });
        const deadline = Date.now() + waitMs;
        for (;;) {
            try {
                const handle = await (0,promises_.open)(file, 'wx', 0o664);
                await handle.writeFile(String(process.pid));
                await handle.close();
                return () => (0,promises_.rm)(file, { force: true });
            }
            catch (error) {
                if (error.code !== 'EEXIST')
                    throw error;
            }
            if (await ownerIsGone(file)) {
                await (0,promises_.rm)(file, { force: true });
                continue;
            }
            if (Date.now() >= deadline)
                return async () => undefined;
            await new Promise(resolve => setTimeout(resolve, 50));
        }
    }
}
/** True for a lock file naming a pid that no longer runs (ours, killed); Python's are empty. */
async function ownerIsGone(lockFile) {
    const content = await (0,promises_.readFile)(lockFile, 'utf8').catch(() => '');
    return /^\d+$/.test(content) && !isRunning(Number(content));
}
/** True when something (file, link, even a broken link) exists at `p`. */
async function exists(p) {
    return (0,promises_.stat)(p).then(() => true, async () => (await (0,promises_.readlink)(p).catch(() => undefined)) !== undefined);
}

;// CONCATENATED MODULE: ./src/fetch/huggingface/glob.ts
/**
 * Repo-path globs: `*` and `?` stay within one path segment, `**` crosses segments (`**\/` also
 * matches no directory at all). Deliberately smaller than fnmatch: no classes, no negation.
 */
function glob_globToRegExp(glob) {
    let source = '';
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === '*' && glob[i + 1] === '*') {
            const slash = glob[i + 2] === '/';
            source += slash ? '(?:.*/)?' : '.*';
            i += slash ? 2 : 1;
        }
        else if (c === '*')
            source += '[^/]*';
        else if (c === '?')
            source += '[^/]';
        else
            source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${source}$`);
}
/** True when `p` matches one of `globs`; no globs selects everything. */
function selectedBy(globs) {
    if (globs.length === 0)
        return () => true;
    const patterns = globs.map(glob_globToRegExp);
    return p => patterns.some(re => re.test(p));
}

;// CONCATENATED MODULE: ./src/fetch/huggingface/download.ts









/**
 * Brings `request.repo` at one commit into the hub cache: resolve the revision once, list the
 * commit's files, reuse what verifies, download the rest (verified before publishing), link the
 * snapshot and write the ref.
 */
async function downloadRepo(request, options) {
    if (options.token !== undefined)
        options.mask?.(options.token);
    const ref = repo_parseRepoRef(request.repo);
    const endpoint = options.endpoint.replace(/\/+$/, '');
    const hub = {
        endpoint,
        credentials: { token: options.token, origin: new URL(endpoint).origin },
        retry: options.retry ?? DEFAULT_RETRY,
        idleTimeoutMs: options.idleTimeoutMs
    };
    const cache = new RepoCache(options.cacheDir, ref);
    const commit = await resolveCommit(hub, ref);
    const listing = await fileListing(hub, ref, cache, commit);
    const plan = planFiles(ref, listing, request);
    const result = {
        repo: displayName(ref),
        revision: ref.revision,
        commit,
        snapshot: cache.snapshot(commit),
        files: [],
        bytesDownloaded: 0,
        bytesReused: 0
    };
    const fetchOne = async (file) => {
        const { source, bytes } = await ensureFile({ hub, ref, cache, commit, file, options });
        result.files.push({ repo: result.repo, path: file.path, size: file.size, digest: describeDigest(file.digest), source, verified: true });
        if (source === 'cache')
            result.bytesReused += file.size;
        result.bytesDownloaded += bytes;
    };
    await forEachBounded(plan, options.concurrency ?? 4, fetchOne);
    await cache.ensureSnapshot(commit);
    await cache.writeRef(ref.revision, commit);
    result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return result;
}
/**
 * The commit's full listing. For a revision given as a commit, a listing stored by an earlier run
 * is used as is, so a warm pinned run makes no request at all; this trusts the restored cache's
 * `trees/` as much as its blobs (a sha256 pin is the defence against a poisoned cache). A branch
 * or tag costs one revision call anyway, and the listing is fetched fresh with it.
 */
async function fileListing(hub, ref, cache, commit) {
    const stored = COMMIT.test(ref.revision) ? await cache.readTree(commit) : undefined;
    if (stored)
        return stored;
    const files = await api_listFiles(hub, ref, commit);
    await cache.writeTree(commit, files);
    return files;
}
function planFiles(ref, listing, request) {
    const selected = listing.filter(f => selectedBy(request.globs ?? [])(f.path));
    const pins = new Map(Object.entries(request.pins ?? {}).map(([p, h]) => [p, h.toLowerCase()]));
    for (const [p, hex] of pins) {
        if (!/^[0-9a-f]{64}$/.test(hex))
            throw new Error(`${displayName(ref)}: pin for ${p} is not a sha256 (64 hex): ${hex}`);
        if (!selected.some(f => f.path === p))
            throw new Error(`${displayName(ref)}@${ref.revision}: pinned file ${p} is not among the selected files`);
    }
    return selected.map(f => {
        const pin = pins.get(f.path);
        if (f.lfs) {
            // The Hub states this file's sha256; a pin that disagrees cannot be satisfied by any download.
            if (pin !== undefined && pin !== f.lfs.oid) {
                throw new Error(`${displayName(ref)}@${ref.revision}: ${f.path} is pinned to sha256 ${pin} but the Hub has sha256 ${f.lfs.oid}`);
            }
            return { path: f.path, size: f.lfs.size, etag: f.lfs.oid, digest: { sha256: f.lfs.oid } };
        }
        return { path: f.path, size: f.size, etag: f.oid, digest: { gitSha1: f.oid, ...(pin ? { sha256: pin } : {}) } };
    });
}
/** Reuse a verified cached copy, else download; `bytes` is what came over the network. */
async function ensureFile(job) {
    const { cache, commit, file, options } = job;
    const symlinks = options.symlinks ?? true;
    if (await cachedCopyVerifies(job))
        return { source: 'cache', bytes: 0 };
    const damaged = (await exists(cache.blob(file.etag))) || (await exists(cache.snapshot(commit, file.path)));
    const release = await cache.lock(file.etag, options.lockWaitMs ?? 30_000);
    try {
        // Another writer (a concurrent file with the same content, or Python) may have finished it.
        if (!damaged && (await fileMatches(cache.blob(file.etag), file.size, file.digest))) {
            await cache.link(commit, file.path, file.etag, symlinks);
            return { source: 'cache', bytes: 0 };
        }
        const outcome = await downloadVerified({
            url: resolveUrl(job),
            credentials: job.hub.credentials,
            destination: cache.blob(file.etag),
            tempPath: cache.incomplete(file.etag),
            size: file.size,
            digest: file.digest,
            label: `${displayName(job.ref)}: ${file.path}`,
            connections: options.connections,
            idleTimeoutMs: options.idleTimeoutMs,
            parallelThreshold: options.parallelThreshold,
            rangeSize: options.rangeSize,
            retry: job.hub.retry,
            progressIntervalMs: options.progressIntervalMs,
            onProgress: progressLogger(job)
        }).catch((error) => {
            throw explainHubError(error, job.ref, job.hub, file.path);
        });
        await cache.link(commit, file.path, file.etag, symlinks);
        return { source: damaged ? 'repaired' : 'downloaded', bytes: outcome.bytesTransferred };
    }
    finally {
        await release();
    }
}
/**
 * A copy in the snapshot (copy mode) or the blob its link points to, checked for size and every
 * digest: a restored cache is not trusted by its file names alone.
 */
async function cachedCopyVerifies(job) {
    const { cache, commit, file } = job;
    const pointer = cache.snapshot(commit, file.path);
    const pointerIsCopy = (await (0,promises_.lstat)(pointer).catch(() => undefined))?.isFile() ?? false;
    if (pointerIsCopy && (await fileMatches(pointer, file.size, file.digest)))
        return true;
    if (!(await fileMatches(cache.blob(file.etag), file.size, file.digest)))
        return false;
    await cache.link(commit, file.path, file.etag, job.options.symlinks ?? true);
    return true;
}
function resolveUrl({ hub, ref, commit, file }) {
    const prefix = ref.type === 'dataset' ? 'datasets/' : '';
    return `${hub.endpoint}/${prefix}${ref.id}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
}
/** `org/name: path: 42% 504.0 MiB of 1.17 GiB, 85.3 MiB/s`, through options.log (the caller picks the rate). */
function progressLogger({ ref, file, options }) {
    const log = options.log;
    if (!log)
        return undefined;
    const started = Date.now();
    return (received, total) => log(progressText(`${displayName(ref)}: ${file.path}`, received, total, started));
}
/** Runs `fn` over `items`, at most `limit` at once; stops starting new ones after the first failure. */
async function forEachBounded(items, limit, fn) {
    let next = 0;
    let failed = false;
    const errors = [];
    const worker = async () => {
        while (!failed && next < items.length) {
            const item = items[next++];
            try {
                await fn(item);
            }
            catch (error) {
                failed = true;
                errors.push(error);
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    if (errors.length > 0)
        throw errors[0];
}

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
 * Once restored, every model the `models` input names is verified in, or downloaded into, the cache.
 */
const huggingface = {
    name: 'huggingface',
    async plan({ config, inPlaceDir }) {
        const found = inPlaceDir === null ? hubCacheDir() : { dir: inPlaceDir, source: 'the local store (in place)' };
        const models = config.hf.models;
        return {
            parts: [rolePart('hf-hub-cache', found.dir)],
            // Credentials and lock/partial files must never travel in an archive (huggingface-hub.md §1.5).
            exclude: ['token', 'stored_tokens', '.locks', '*.incomplete'],
            notes: [`hub cache from ${found.source}`],
            // The models asked for name the entry; any other hub cache entry is still a useful partial hit.
            keyParts: models.length === 0
                ? []
                : [{ name: 'models', value: shortHash(JSON.stringify(models)), source: models.map(m => m.repo).join(', ') }],
            droppable: models.length === 0 ? 0 : 1,
            inPlace: inPlaceDir !== null,
            // Later steps (transformers, huggingface_hub) read the same cache, offline if asked.
            env: { [Env.HfHubCache]: found.dir, ...(config.hf.offline ? { [Env.HfHubOffline]: '1' } : {}) }
        };
    },
    async afterRestore(run) {
        if (run.config.hf.models.length > 0)
            await lib_core/* group */.Os('Fetch models', () => fetchModels(run));
    },
    summarize(entry) {
        const files = fetchedFiles(entry);
        return files?.length ? renderFiles(files) : [];
    }
};
/** Anything asked for that cannot be had fails the step. */
async function fetchModels({ config, plan, entry }) {
    // The input, else the token huggingface_hub itself would use; masked before anything can log it.
    const token = hubToken(lib_core/* getInput */.V4(constants_Inputs.HfToken));
    if (token)
        lib_core/* setSecret */.Pq(token);
    const details = { files: [] };
    entry.details = details;
    for (const model of config.hf.models) {
        const started = performance.now();
        const result = await downloadRepo(model, {
            endpoint: config.hf.endpoint,
            cacheDir: plan.spec.parts[0].path,
            token,
            mask: secret => lib_core/* setSecret */.Pq(secret),
            log: line => lib_core/* info */.pq(line),
            symlinks: process.env.HF_HUB_DISABLE_SYMLINKS !== '1',
            ...config.transfer
        });
        details.files.push(...result.files);
        if (result.bytesDownloaded > 0)
            addTransfer(entry, result.bytesDownloaded, performance.now() - started);
        lib_core/* info */.pq(`${result.repo} at ${result.commit}: ${result.files.length} file(s) verified, ` +
            `${formatBytes(result.bytesDownloaded)} downloaded, ${formatBytes(result.bytesReused)} from the cache`);
    }
}
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
    async plan({ config, inPlaceDir }) {
        const notes = [];
        const dir = inPlaceDir ?? (await pipCacheDir(notes));
        const python = (await toolVersion('python3')) ?? 'none';
        const deps = await hashFiles(config.pip.dependencyFiles, config.workspace);
        return {
            parts: [rolePart('pip-cache', dir)],
            // pip never evicts; its cache only holds immutable wheels and responses, so nothing is stale by content.
            exclude: ['selfcheck', '*.tmp'],
            notes,
            keyParts: [
                ...platformParts(),
                { name: 'python', value: `py${python.split('.').slice(0, 2).join('.')}`, source: 'python3 --version' },
                {
                    name: 'dependencies',
                    value: deps.hash,
                    source: deps.files.length > 0 ? deps.files.join(', ') : `no file matched ${config.pip.dependencyFiles.join(' ')}`
                }
            ],
            droppable: 2,
            ...(inPlaceDir === null ? {} : { inPlace: true, env: { [Env.PipCacheDir]: dir } })
        };
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







const KINDS = { pip: pip, buildah: buildah, huggingface: huggingface, podman: podman_podman, nix: nix_nix, downloads: downloads, custom: custom };
function kinds_kindNamed(name) {
    return KINDS[name];
}

;// CONCATENATED MODULE: ./src/report/budget.ts


/** The user's bandwidth gate: upstream bytes of the job and of each kind against their budgets. */
function checkBudget(entries, settings) {
    const breaches = [];
    for (const [kind, budgetBytes] of Object.entries(settings.maxDownloadedPerKind)) {
        const downloadedBytes = entries.filter(e => e.kind === kind).reduce((sum, e) => sum + e.downloadedBytes, 0);
        if (downloadedBytes > budgetBytes)
            breaches.push({ kind, downloadedBytes, budgetBytes });
    }
    const total = totals(entries).downloadedBytes;
    if (settings.maxDownloaded !== null && total > settings.maxDownloaded)
        breaches.push({ kind: null, downloadedBytes: total, budgetBytes: settings.maxDownloaded });
    return {
        maxDownloaded: settings.maxDownloaded,
        maxDownloadedPerKind: settings.maxDownloadedPerKind,
        breaches,
        exceeded: breaches.length > 0,
        line: breaches.length === 0 ? null : `Bandwidth budget exceeded: ${breaches.map(describeBreach).join('; ')}`
    };
}
function describeBreach(breach) {
    const who = breach.kind ?? 'the job';
    return `${who} downloaded ${formatBytes(breach.downloadedBytes)}, budget ${formatBytes(breach.budgetBytes)}`;
}

;// CONCATENATED MODULE: ./src/plan/plan.ts




/**
 * What every kind will restore and save, and why its key is what it is. `inPlaceDirs` names the store's
 * own directory of each kind that can live in place (in-place mode).
 */
async function planCaches(config, inPlaceDirs) {
    return Promise.all(config.kinds.map(name => planKind(config, name, inPlaceDirs[name] ?? null)));
}
async function planKind(config, name, inPlaceDir) {
    const planned = await kindNamed(name).plan({ config, inPlaceDir });
    const stem = [config.keyPrefix, name, KEY_SCHEME];
    const { keyParts, droppable } = planned;
    const key = planned.ownKey?.key ?? joinKey([...stem, ...keyParts.map(p => p.value)]);
    const fallbacks = planned.ownKey?.restoreKeys ??
        Array.from({ length: droppable }, (_, i) => joinKey([...stem, ...keyParts.slice(0, keyParts.length - 1 - i).map(p => p.value)]) + '-');
    return {
        kind: name,
        spec: { parts: planned.parts, exclude: planned.exclude, kind: name },
        key,
        restoreKeys: [revisionsOf(key), ...fallbacks],
        keyParts,
        notes: planned.notes,
        inPlace: planned.inPlace ?? false,
        env: planned.env ?? {},
        data: planned.data
    };
}
function joinKey(values) {
    return values.map(v => v.replace(/[\s,]+/g, '_')).join('-');
}
/**
 * Entries are immutable, so a save appends a revision to the primary key; the newest revision of the
 * primary key is still an exact hit. This is what lets a changed cache be saved again under the same key.
 */
function revisionsOf(key) {
    return key + constants_REVISION_SEPARATOR;
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
    const where = backendName === 'local' ? ` (${config.local.dir})` : backendName === 's3' && config.s3 ? ` (${describeS3Store(config.s3)})` : '';
    core.info(`backend: ${backendName}${where}`);
    core.info(`save: ${config.save}${config.readOnly ? ', read-only' : ''}`);
    for (const plan of plans) {
        core.info(``);
        core.info(`[${plan.kind}]`);
        // The names are the entry's identity on every machine; the paths are where they are on this one.
        for (const part of plan.spec.parts)
            core.info(`  ${part.origin === 'role' ? part.name : `path ${part.name}`}: ${part.path}`);
        if (plan.spec.exclude.length > 0)
            core.info(`  never archived: ${plan.spec.exclude.join(', ')}`);
        for (const note of plan.notes)
            core.info(`  ${note}`);
        for (const [name, value] of Object.entries(plan.env))
            core.info(`  exported for later steps: ${name}=${value}`);
        core.info(`  key: ${plan.key}`);
        for (const part of plan.keyParts)
            core.info(`    ${part.name} = ${part.value}  (${part.source})`);
        core.info(`  restore keys: ${plan.restoreKeys.join(' | ')}`);
    }
}

;// CONCATENATED MODULE: ./src/report/history.ts








/** Runs kept per branch: more than any baseline asks for, few enough to stay a few kilobytes. */
const KEPT_RUNS = 30;
const DOCUMENT_FILE = 'document.json';
/** Reads the base branch's history, then adds this run to its own branch's. Never fails the job. */
async function runHistory(context) {
    return lib_core/* group */.Os('Run history', async () => {
        const documents = context.backend.documents ?? entryDocuments(context.backend);
        const own = branchOfRun();
        const base = process.env.GITHUB_BASE_REF || own;
        // A pull request reads two histories, its own and its base branch's: at once, each a store round trip.
        const [ownRuns, otherBaseRuns] = await Promise.all([
            history_readHistory(documents, historyKey(context.keyPrefix, own)),
            base === own ? null : history_readHistory(documents, historyKey(context.keyPrefix, base))
        ]);
        const baseRuns = otherBaseRuns ?? ownRuns;
        if (context.mode.write && ownRuns !== 'unreadable')
            await saveHistory(documents, historyKey(context.keyPrefix, own), own, [...ownRuns, thisRun(context)]);
        const usable = baseRuns === 'unreadable' ? [] : baseRuns;
        const compared = usable.slice(-context.baselineRuns);
        return {
            baseline: compared.length === 0 ? null : baselineOf(base, compared),
            note: compared.length > 0
                ? null
                : baseRuns === 'unreadable'
                    ? `The history of ${base} could not be read, so there is nothing to compare this run with.`
                    : `No earlier runs of ${base} to compare with yet: this is the first one the history has.`,
            bandwidth: median(usable.flatMap(run => (run.bandwidth === null ? [] : [run.bandwidth])))
        };
    });
}
/** The branch this run's history belongs to: a pull request's head branch, else the pushed branch or tag. */
function branchOfRun() {
    const env = process.env;
    return env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || env.GITHUB_REF?.replace(/^refs\/(heads|tags)\//, '') || 'local';
}
function historyKey(keyPrefix, branch) {
    const slug = (text) => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
    return [
        keyPrefix,
        'history',
        'v1',
        slug(process.env.GITHUB_WORKFLOW || 'workflow'),
        slug(process.env.GITHUB_JOB || 'job'),
        slug(branch)
    ].join('-');
}
/** A branch's runs, oldest first; [] when it has none yet. */
async function history_readHistory(documents, key) {
    try {
        const file = (await documents.read(key));
        return file?.format === 1 && Array.isArray(file.runs) ? file.runs : [];
    }
    catch (error) {
        lib_core/* info */.pq(`Could not read the run history ${key}: ${stringifyError(error)}`);
        return 'unreadable';
    }
}
async function saveHistory(documents, key, branch, runs) {
    try {
        const file = { format: 1, runs: runs.slice(-KEPT_RUNS) };
        await documents.write(key, file);
        lib_core/* info */.pq(`This run is in the history of ${branch} (${file.runs.length} run(s))`);
    }
    catch (error) {
        lib_core/* info */.pq(`Could not add this run to the history ${key}: ${stringifyError(error)}`);
    }
}
/**
 * Documents as entries, for stores with no other place (the GitHub cache service): one small directory,
 * named by its role like every other entry; each write is a new revision, the newest is the document.
 */
function entryDocuments(backend) {
    return {
        read: key => withDocumentDir(async (spec) => {
            const restored = await backend.restore(spec, key, [revisionsOf(key)]);
            return restored.matchedKey === null ? null : readJson(external_node_path_.join(spec.parts[0].path, DOCUMENT_FILE));
        }),
        write: (key, document) => withDocumentDir(async (spec) => {
            await atomic_writeFileAtomic(external_node_path_.join(spec.parts[0].path, DOCUMENT_FILE), JSON.stringify(document));
            await backend.save(spec, revisionKey(key));
        })
    };
}
async function withDocumentDir(work) {
    const dir = await promises_.mkdtemp(external_node_path_.join(temp_runnerTemp(), 'qdc-history-'));
    try {
        return await work({ parts: [{ origin: 'role', name: 'qdc-history', path: dir }], exclude: [], kind: 'history' });
    }
    finally {
        await promises_.rm(dir, { recursive: true, force: true });
    }
}
function thisRun(context) {
    const downloadedBytes = {};
    for (const entry of context.entries)
        downloadedBytes[entry.kind] = (downloadedBytes[entry.kind] ?? 0) + entry.downloadedBytes;
    return {
        time: Date.now(),
        runId: `${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`,
        downloadedBytes,
        totalDownloaded: totals(context.entries).downloadedBytes,
        bandwidth: context.bandwidth
    };
}
function baselineOf(branch, runs) {
    const kinds = new Set(runs.flatMap(run => Object.keys(run.downloadedBytes)));
    const medianByKind = Object.fromEntries([...kinds].map(kind => [kind, median(runs.map(run => run.downloadedBytes[kind] ?? 0)) ?? 0]));
    return { branch, runs, medianByKind, medianTotal: median(runs.map(run => run.totalDownloaded)) ?? 0 };
}
function median(values) {
    if (values.length === 0)
        return null;
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const BARS = '▁▂▃▄▅▆▇█';
/** A trend line of values in characters Markdown shows as they are. */
function sparkline(values) {
    const max = Math.max(...values);
    return values.map(value => BARS[max <= 0 ? 0 : Math.min(BARS.length - 1, Math.round((value / max) * (BARS.length - 1)))]).join('');
}

;// CONCATENATED MODULE: ./src/report/payoff.ts


/** Bytes a kind itself moved and the time it took; below this a measurement says little. */
const MEANINGFUL_BYTES = 1024 * 1024;
/** A restore less than this slower than the download it saves is not worth a person's attention. */
const SLACK_MS = 1000;
/**
 * Prices each kind's reused bytes at the best bandwidth figure there is: the kind's own download in this
 * run, else what the job's kinds measured, else the recent history's, else the assumed bandwidth.
 */
function payoffs(entries, historyBandwidth, assumedBandwidth) {
    const measured = jobBandwidth(entries);
    return entries.map(entry => {
        const own = entry.fetched ? bandwidthOf([entry.fetched]) : null;
        const [bandwidth, bandwidthSource] = own !== null
            ? [own, 'measured']
            : measured !== null
                ? [measured, 'measured']
                : historyBandwidth !== null
                    ? [historyBandwidth, 'history']
                    : [assumedBandwidth, 'assumed'];
        const missMs = (entry.reusedBytes / bandwidth) * 1000;
        return {
            kind: entry.kind,
            restoreMs: Math.round(entry.restoreMs),
            archiveBytes: entry.restoredArchiveBytes,
            reusedBytes: entry.reusedBytes,
            bandwidth: Math.round(bandwidth),
            bandwidthSource,
            missMs: Math.round(missMs),
            paysOff: entry.reusedBytes === 0 || entry.restoreMs <= missMs + SLACK_MS
        };
    });
}
/** What the job's kinds measured downloading from upstream, together; null when they moved too little to tell. */
function jobBandwidth(entries) {
    return bandwidthOf(entries.flatMap(entry => (entry.fetched ? [entry.fetched] : [])));
}
function bandwidthOf(transfers) {
    const bytes = transfers.reduce((sum, t) => sum + t.bytes, 0);
    const ms = transfers.reduce((sum, t) => sum + t.ms, 0);
    return bytes < MEANINGFUL_BYTES || ms <= 0 ? null : bytesPerSecond({ bytes, ms });
}
const SOURCE_WORDS = { measured: 'the measured', history: 'the recently measured', assumed: 'the assumed' };
/** The one actionable line for a kind whose restore costs more than its miss would. */
function payoffAdvice(payoff) {
    return (`${payoff.kind}: restoring took ${formatDuration(payoff.restoreMs)}, downloading would take ~${formatDuration(payoff.missMs)} ` +
        `at ${SOURCE_WORDS[payoff.bandwidthSource]} ${formatBytes(payoff.bandwidth)}/s — consider in-place mode or no cache`);
}

;// CONCATENATED MODULE: ./src/report/pr-comment.ts


/** The pull request this run belongs to, or null when it is not a pull request's run. */
function pullRequestOfRun(env = process.env) {
    if (!['pull_request', 'pull_request_target'].includes(env.GITHUB_EVENT_NAME ?? '') || !env.GITHUB_REPOSITORY)
        return null;
    const number = pullRequestNumber(env);
    return number === null
        ? null
        : { api: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''), repository: env.GITHUB_REPOSITORY, number };
}
function pullRequestNumber(env) {
    if (env.GITHUB_EVENT_PATH) {
        try {
            const event = JSON.parse(external_node_fs_.readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
            if (typeof event.pull_request?.number === 'number')
                return event.pull_request.number;
        }
        catch {
            // Fall back to the ref.
        }
    }
    const fromRef = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')?.[1];
    return fromRef === undefined ? null : Number(fromRef);
}
/** Creates or edits this job's comment; returns what it did, for the log. Throws on an API error. */
async function postStickyComment(target, token, markdown) {
    const marker = `<!-- qdc-action: ${process.env.GITHUB_WORKFLOW ?? 'workflow'} / ${process.env.GITHUB_JOB ?? 'job'} -->`;
    const body = `${marker}\n${markdown}`;
    const existing = await findComment(target, token, marker);
    if (existing === null) {
        await call(token, 'POST', `${target.api}/repos/${target.repository}/issues/${target.number}/comments`, { body });
        return 'created';
    }
    await call(token, 'PATCH', `${target.api}/repos/${target.repository}/issues/comments/${existing}`, { body });
    return 'edited';
}
async function findComment(target, token, marker) {
    for (let page = 1; page <= 20; page++) {
        const comments = (await call(token, 'GET', `${target.api}/repos/${target.repository}/issues/${target.number}/comments?per_page=100&page=${page}`));
        const mine = comments.find(comment => comment.body?.includes(marker));
        if (mine)
            return mine.id;
        if (comments.length < 100)
            return null;
    }
    return null;
}
async function call(token, method, url, payload) {
    const response = await (0,undici/* request */.Em)(url, {
        method,
        headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/vnd.github+json',
            'x-github-api-version': '2022-11-28',
            'user-agent': 'qdc-action',
            ...(payload ? { 'content-type': 'application/json' } : {})
        },
        body: payload ? JSON.stringify(payload) : undefined,
        headersTimeout: 30_000,
        bodyTimeout: 30_000
    });
    const text = await response.body.text();
    if (response.statusCode >= 300)
        throw new Error(`${method} ${new URL(url).pathname} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
}

;// CONCATENATED MODULE: ./src/report/report.ts


/**
 * The JSON report (version 2): the ledger as machine-readable figures a PR check can trust, with the budget
 * check, the comparison with the base branch and whether each cache pays off.
 */
function buildReport(report) {
    const { entries } = report;
    const { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent } = totals(entries);
    const baseline = report.history?.baseline ?? null;
    return {
        version: 2,
        caches: entries.map(cacheFigures),
        totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent },
        budget: report.budget
            ? {
                exceeded: report.budget.exceeded,
                maxDownloaded: report.budget.maxDownloaded,
                maxDownloadedPerKind: report.budget.maxDownloadedPerKind,
                breaches: report.budget.breaches
            }
            : null,
        baseline: baseline && {
            branch: baseline.branch,
            runs: baseline.runs.length,
            medianDownloadedBytes: baseline.medianByKind,
            medianTotalDownloadedBytes: baseline.medianTotal,
            deltaDownloadedBytes: Object.fromEntries(entries.map(e => [e.kind, e.downloadedBytes - (baseline.medianByKind[e.kind] ?? 0)])),
            deltaTotalDownloadedBytes: downloadedBytes - baseline.medianTotal
        },
        baselineNote: report.history?.note ?? null,
        payoff: report.payoffs ?? []
    };
}
function cacheFigures(e) {
    return {
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
        ...(e.fetched ? { fetched: e.fetched } : {}),
        // Bytes and time of the store's own transfers, where the backend measures them (s3).
        ...(e.transfer ? { transfer: { restore: transferFigures(e.transfer.restore), save: transferFigures(e.transfer.save) } } : {}),
        // A kind's own figures (files, nix, services), as the kind keeps them.
        ...e.details
    };
}
function transferFigures(transfer) {
    if (!transfer)
        return undefined;
    return { bytes: transfer.bytes, ms: Math.round(transfer.ms), bytesPerSecond: bytesPerSecond(transfer) };
}
async function writeReport(file, report) {
    await atomic_writeFileAtomic(file, JSON.stringify(buildReport(report), null, 2) + '\n');
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
/**
 * The job summary, rendered from the run's report alone (GitHub-flavoured Markdown): the table of every
 * kind, the budget, the comparison with the base branch, whether each cache pays off, then each kind's
 * own section and the problems.
 */
function renderSummary(report) {
    const { entries } = report;
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
    for (const note of report.notes ?? [])
        lines.push('', note);
    const transfers = renderTransfers(entries);
    if (transfers.length > 0)
        lines.push('', ...transfers);
    if (report.budget)
        lines.push(...renderBudget(report.budget));
    if (report.history)
        lines.push('', ...renderBaseline(entries, report.history));
    if (report.payoffs?.length)
        lines.push('', ...renderPayoffs(report.payoffs));
    for (const section of report.sections ?? [])
        if (section.length > 0)
            lines.push('', ...section);
    const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`));
    const advice = (report.payoffs ?? []).filter(p => !p.paysOff).map(p => `- ⚠️ ${escapeCell(payoffAdvice(p))}`);
    if (problems.length + advice.length > 0)
        lines.push('', ...problems, ...advice);
    return lines.join('\n') + '\n';
}
/** Per entry, what the store sent and took and how fast, for the backends that measure it (s3). */
function renderTransfers(entries) {
    const measured = entries.filter(e => e.transfer?.restore || e.transfer?.save);
    if (measured.length === 0)
        return [];
    const cell = (transfer) => transfer ? `${formatBytes(transfer.bytes)} in ${formatDuration(transfer.ms)} (${formatBytes(bytesPerSecond(transfer))}/s)` : '—';
    return [
        '| Cache | Backend | From the store | To the store |',
        '| --- | --- | ---: | ---: |',
        ...measured.map(e => `| ${e.kind} | ${e.backend} | ${cell(e.transfer?.restore)} | ${cell(e.transfer?.save)} |`)
    ];
}
function renderRow(e) {
    const matched = e.matchedKey ? `\`${escapeCell(e.matchedKey)}\`` : '—';
    const restored = e.restoredArchiveBytes !== null && e.restoredBytes > 0
        ? `${formatBytes(e.restoredBytes)} (${formatBytes(e.restoredArchiveBytes)} archive)`
        : formatBytes(e.restoredBytes);
    return `| ${e.kind} | ${HIT_LABELS[e.hit]} | ${matched} | ${restored} | ${formatBytes(e.downloadedBytes)} | ${formatBytes(e.reusedBytes)} | ${formatBytes(e.uploadedBytes)} | ${SAVE_LABELS[e.saved]} | ${formatDuration(e.restoreMs + e.saveMs)} |`;
}
function renderBudget(budget) {
    const limits = [
        ...Object.entries(budget.maxDownloadedPerKind).map(([kind, bytes]) => `${kind} ≤ ${formatBytes(bytes)}`),
        ...(budget.maxDownloaded === null ? [] : [`the job ≤ ${formatBytes(budget.maxDownloaded)}`])
    ];
    if (limits.length === 0)
        return [];
    return ['', budget.line ? `**⚠️ ${budget.line}**` : `Bandwidth budget held (${limits.join(', ')}).`];
}
/** Per kind: this run's download against the base branch's recent median, with the trend of those runs. */
function renderBaseline(entries, history) {
    const baseline = history.baseline;
    if (!baseline)
        return [history.note ?? 'No earlier runs to compare with.'];
    const row = (label, now, median, past) => `| ${label} | ${formatBytes(now)} | ${signed(now - median)} | ${formatBytes(median)} | ${sparkline([...past, now])} |`;
    const kinds = [...new Set(entries.map(e => e.kind))];
    const downloadedOf = (kind) => entries.filter(e => e.kind === kind).reduce((sum, e) => sum + e.downloadedBytes, 0);
    return [
        `Compared with ${escapeCell(baseline.branch)}: the median of its last ${baseline.runs.length} run(s), and the trend of those runs then this one.`,
        '',
        `| Cache | Downloaded | vs ${escapeCell(baseline.branch)} | Median | Trend |`,
        '| --- | ---: | ---: | ---: | --- |',
        ...kinds.map(kind => row(kind, downloadedOf(kind), baseline.medianByKind[kind] ?? 0, baseline.runs.map(run => run.downloadedBytes[kind] ?? 0))),
        row('**total**', totals(entries).downloadedBytes, baseline.medianTotal, baseline.runs.map(run => run.totalDownloaded))
    ];
}
function signed(bytes) {
    if (bytes === 0)
        return '±0 B';
    return `${bytes > 0 ? '+' : '−'}${formatBytes(Math.abs(bytes))}`;
}
/** What each restore cost against what a miss would have: the reused bytes at the upstream's bandwidth. */
function renderPayoffs(payoffs) {
    return [
        '| Cache | Restore took | Archive moved | Reused | A download of it would take | Pays off |',
        '| --- | ---: | ---: | ---: | ---: | --- |',
        ...payoffs.map(p => {
            const at = `~${formatDuration(p.missMs)} at ${formatBytes(p.bandwidth)}/s (${p.bandwidthSource})`;
            return `| ${p.kind} | ${formatDuration(p.restoreMs)} | ${p.archiveBytes === null ? '—' : formatBytes(p.archiveBytes)} | ${formatBytes(p.reusedBytes)} | ${at} | ${p.paysOff ? '✅' : '⚠️ no'} |`;
        })
    ];
}

;// CONCATENATED MODULE: ./src/report/publish.ts










/** Outputs, the JSON report, the summary's Markdown (as a file, and as a PR comment when asked) and the job summary. */
async function publish(report, settings) {
    const { reportPath } = settings;
    const sums = totals(report.entries);
    lib_core/* setOutput */.uH(Outputs.BytesDownloaded, String(sums.downloadedBytes));
    lib_core/* setOutput */.uH(Outputs.BytesReused, String(sums.reusedBytes));
    lib_core/* setOutput */.uH(Outputs.BudgetExceeded, String(report.budget.exceeded));
    try {
        await writeReport(reportPath, report);
        lib_core/* setOutput */.uH(Outputs.Report, reportPath);
    }
    catch (error) {
        lib_core/* warning */.$e(`Could not write the report to ${reportPath}: ${stringifyError(error)}`);
    }
    const markdown = renderSummary(report);
    const markdownFile = external_node_path_.join(temp_runnerTemp(), 'qdc-summary.md');
    try {
        await promises_.writeFile(markdownFile, markdown);
        lib_core/* setOutput */.uH(Outputs.SummaryMarkdown, markdownFile);
    }
    catch (error) {
        lib_core/* warning */.$e(`Could not write the summary to ${markdownFile}: ${stringifyError(error)}`);
    }
    if (settings.summary && process.env.GITHUB_STEP_SUMMARY)
        await lib_core/* summary */.z.addRaw(markdown).write();
    if (settings.prComment)
        await commentOnPullRequest(markdown);
}
/** A comment that cannot be posted (no pull request, a token without the permission) is a warning. */
async function commentOnPullRequest(markdown) {
    const target = pullRequestOfRun();
    if (target === null) {
        lib_core/* info */.pq("pr-comment: this run is not a pull request's; no comment.");
        return;
    }
    const token = lib_core/* getInput */.V4(constants_Inputs.GithubToken).trim() || process.env.GITHUB_TOKEN || '';
    if (!token)
        return void lib_core/* warning */.$e("pr-comment: no github-token; set it (the job's own token, with pull-requests: write) to comment");
    lib_core/* setSecret */.Pq(token);
    try {
        lib_core/* info */.pq(`pr-comment: ${await postStickyComment(target, token, markdown)} the comment on #${target.number}`);
    }
    catch (error) {
        lib_core/* warning */.$e(`pr-comment: could not comment on #${target.number} (the token needs pull-requests: write): ${stringifyError(error)}`);
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

;// CONCATENATED MODULE: ./src/save/save.ts









/** Measure against what main restored, then upload unless nothing changed since an exact hit. */
async function saveOne(plan, entry, restoredFingerprint, context) {
    const started = performance.now();
    const now = await snapshotTree(partPaths(plan.spec), plan.spec.exclude);
    const changed = fingerprint(now) !== restoredFingerprint;
    await account(plan, entry, now, changed, context.snapshotDir);
    entry.saved = await decideAndSave(plan, entry, changed, totalBytes(now), context);
    entry.saveMs = performance.now() - started;
}
/**
 * downloaded = what appeared or changed since the restore; reused = restored bytes still there, unchanged.
 * A kind that knows better (something built on the runner also lands in its directory) counts its own.
 * When the fingerprint says nothing changed, every file is as main saw it: nothing was downloaded and
 * every restored byte was reused, so main's file lists need not be read back.
 */
async function account(plan, entry, now, changed, snapshotDir) {
    const own = kinds_kindNamed(plan.kind).account?.(entry);
    if (own) {
        entry.downloadedBytes = own.downloadedBytes;
        entry.reusedBytes = own.reusedBytes;
        lib_core/* info */.pq(own.explanation);
        return;
    }
    if (changed) {
        const tree = await readRestoredTree(snapshotFile(snapshotDir, plan.kind));
        entry.downloadedBytes = totalBytes(changedSince(tree?.present ?? {}, now));
        entry.reusedBytes = totalBytes(unchangedIn(tree?.restored ?? {}, now));
    }
    else {
        entry.downloadedBytes = 0;
        entry.reusedBytes = entry.restoredBytes;
    }
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
        return said('empty', `Nothing to save: ${partPaths(plan.spec).join(', ')} holds no files.`);
    const key = revisionKey(plan.key);
    try {
        const result = await context.backend.save(plan.spec, key);
        entry.uploadedBytes = result.archiveBytes ?? 0;
        if (result.transferMs !== undefined)
            entry.transfer = { ...entry.transfer, save: { bytes: entry.uploadedBytes, ms: result.transferMs } };
        lib_core/* info */.pq(`Saved ${key}${result.archiveBytes === null ? '' : ` (${formatBytes(result.archiveBytes)} archive)`}`);
        return 'saved';
    }
    catch (error) {
        // Credentials that may only read: one warning for the job, and the other kinds are read-only too.
        if (error instanceof ReadOnlyStoreError) {
            if (error.firstInJob)
                warnAbout(entry, `not saved: ${error.message}`);
            return said('read-only', `Not saving: ${error.message}.`);
        }
        warnAbout(entry, `save failed, the job goes on: ${stringifyError(error)}`);
        return 'failed';
    }
}
function said(outcome, message) {
    lib_core/* info */.pq(message);
    return outcome;
}

;// CONCATENATED MODULE: ./src/save/run.ts













/**
 * The post step: each kind's own work before saving, then measure, save, the store's upkeep, report. A
 * cache problem only ever warns; an exceeded budget fails the job when `on-budget: fail` says so.
 */
async function runPost() {
    try {
        maskSecretInputs();
        const run = loadRunState();
        if (!run) {
            lib_core/* info */.pq('The main step did not finish; nothing to save.');
            return;
        }
        const backend = openBackend(run.backend, run.config);
        for (const [index, plan] of run.plans.entries()) {
            const kind = kinds_kindNamed(plan.kind);
            const entry = run.entries[index];
            await kind.beforeSave?.({ config: run.config, plan, entry, mode: run.mode, snapshotDir: run.snapshotDir });
            const context = {
                backend: backendForPlan(plan, backend, run.config.local.dir),
                mode: run.mode,
                save: run.config.save,
                snapshotDir: run.snapshotDir
            };
            await lib_core/* group */.Os(`Save ${plan.kind}`, () => saveOne(plan, entry, run.fingerprints[plan.kind], context));
        }
        await releaseLeases(run.leases);
        await backend.maintain?.(run.entries);
        const report = await gatherReport(run, backend);
        for (const payoff of report.payoffs.filter(p => !p.paysOff))
            lib_core/* warning */.$e(payoffAdvice(payoff));
        await publish(report, { reportPath: run.config.reportPath, summary: run.config.summary, prComment: run.config.report.prComment });
        enforceBudget(report.budget, run.config);
        await promises_.rm(run.snapshotDir, { recursive: true, force: true });
    }
    catch (error) {
        lib_core/* warning */.$e(`qdc-action post step: ${stringifyError(error)}`);
    }
}
async function gatherReport(run, backend) {
    const { entries, config, mode } = run;
    const bandwidth = jobBandwidth(entries);
    const history = config.report.history
        ? await runHistory({ backend, mode, keyPrefix: config.keyPrefix, baselineRuns: config.report.baselineRuns, entries, bandwidth })
        : { baseline: null, note: 'No comparison with earlier runs: history is off.', bandwidth: null };
    return {
        entries,
        sections: entries.map(entry => kinds_kindNamed(entry.kind).summarize?.(entry) ?? []),
        notes: mode.write ? [] : [`Nothing was saved: ${mode.reason}.`],
        budget: checkBudget(entries, config.report),
        history,
        payoffs: payoffs(entries, history.bandwidth, config.report.assumedBandwidth)
    };
}
/** The user's own gate, not a cache problem: `on-budget: fail` fails the job with the one line. */
function enforceBudget(budget, config) {
    if (!budget.line)
        return;
    if (config.report.onBudget === 'fail')
        lib_core/* setFailed */.C1(budget.line);
    else
        lib_core/* warning */.$e(budget.line);
}


/***/ })

};
