/** Every input, output, state and environment name the action uses, in one place. */

export enum Inputs {
  Caches = 'caches',
  Paths = 'paths',
  Key = 'key',
  RestoreKeys = 'restore-keys',
  KeyPrefix = 'key-prefix',
  Backend = 'backend',
  LocalDir = 'local-dir',
  LocalMaxAge = 'local-max-age',
  LocalMaxSize = 'local-max-size',
  Save = 'save',
  ReadOnly = 'read-only',
  Summary = 'summary',
  ReportPath = 'report-path',
  PipDependencyFiles = 'pip-dependency-files',
  PodmanDir = 'podman-dir',
  NixDir = 'nix-dir',
  DownloadsDir = 'downloads-dir',
  Models = 'models',
  HfToken = 'hf-token',
  HfEndpoint = 'hf-endpoint',
  HfOffline = 'hf-offline',
  Downloads = 'downloads',
  NixSigningKey = 'nix-signing-key',
  NixPublicKeys = 'nix-public-keys',
  NixTrusted = 'nix-trusted',
  NixMaxSize = 'nix-max-size',
  NixMaxAge = 'nix-max-age',
  LocalMode = 'local-mode',
  ComposeFile = 'compose-file',
  ComposeServices = 'compose-services',
  PodmanBuildArgs = 'podman-build-args',
  Isolation = 'isolation',
  PodmanCacheMode = 'podman-cache-mode',
  SaveOnUntrustedTriggers = 'save-on-untrusted-triggers',
  MaxDownloaded = 'max-downloaded',
  MaxDownloadedPerKind = 'max-downloaded-per-kind',
  OnBudget = 'on-budget',
  BaselineRuns = 'baseline-runs',
  History = 'history',
  PrComment = 'pr-comment',
  GithubToken = 'github-token',
  AssumedBandwidth = 'assumed-bandwidth',
  DownloadConnections = 'download-connections',
  IdleTimeout = 'idle-timeout',
  S3Bucket = 's3-bucket',
  S3Prefix = 's3-prefix',
  S3Endpoint = 's3-endpoint',
  S3Region = 's3-region',
  S3ForcePathStyle = 's3-force-path-style',
  S3IdleTimeout = 's3-idle-timeout',
  S3MaxAge = 's3-max-age',
  S3MaxSize = 's3-max-size'
}

export enum Outputs {
  CacheHit = 'cache-hit',
  Hits = 'hits',
  BytesDownloaded = 'bytes-downloaded',
  BytesReused = 'bytes-reused',
  Report = 'report',
  BudgetExceeded = 'budget-exceeded',
  SummaryMarkdown = 'summary-markdown'
}

export enum State {
  /** The parsed configuration and the restore results; empty when main did not finish. */
  Run = 'qdc-run'
}

export enum Env {
  /** Read by `post-if` in action.yml: inputs are not visible there, the environment is. */
  SaveOnFailure = 'QDC_SAVE_ON_FAILURE',
  /** The service-enforced cache mode (`read`, `write`, `write-only`, `none`). */
  CacheMode = 'ACTIONS_CACHE_MODE',
  /** The workflow's trigger; some run pull-request code with the base repository's cache scope. */
  EventName = 'GITHUB_EVENT_NAME',
  HfEndpoint = 'HF_ENDPOINT',
  HfHubCache = 'HF_HUB_CACHE',
  HfHubOffline = 'HF_HUB_OFFLINE',
  /** Nix's list of user configuration files: where the restored binary cache becomes a substituter. */
  NixUserConfFiles = 'NIX_USER_CONF_FILES',
  PipCacheDir = 'PIP_CACHE_DIR',
  /** buildah and podman keep `RUN --mount=type=cache` data under $TMPDIR. */
  TmpDir = 'TMPDIR',
  /** The process whose life bounds an in-place lease; `qdc run` sets its own pid (see inplace/lease.ts). */
  LeasePid = 'QDC_LEASE_PID',
  /** The AWS credential chain's variables (aws-actions/configure-aws-credentials exports them): masked. */
  AwsAccessKeyId = 'AWS_ACCESS_KEY_ID',
  AwsSecretAccessKey = 'AWS_SECRET_ACCESS_KEY',
  AwsSessionToken = 'AWS_SESSION_TOKEN'
}

/** Bumped when the archive layout or key scheme changes, so old entries are never misread. */
export const KEY_SCHEME = 'v1'

/** Separates a primary key from the revision a save appends: entries are immutable, content is not. */
export const REVISION_SEPARATOR = '~r'
