"use strict";
// The console's words in its two languages. Plugin views bring their own labels ({"zh-CN", "en"}).
const I18N = {
  "zh-CN": {
    title: "synchost 控制台", overview: "概览", views: "数据视图", instances: "实例", schedules: "计划任务", runs: "运行记录",
    data: "数据", notifications: "通知", tokens: "令牌", audit: "审计",
    signIn: "登录", adminToken: "管理令牌", tokenHint: "synchost 首次启动时打印，或由管理员创建的令牌", signedIn: "已登录", signOut: "退出",
    live: "实时", offline: "未连接（每 10 秒刷新）", host: "主机", status: "状态", version: "版本", plugins: "插件", kind: "类型",
    jobs: "作业", collections: "数据集", loaded: "已加载", failed: "失败", inFlight: "进行中的运行", none: "无", recentFailures: "最近失败",
    instance: "实例", plugin: "插件", enabled: "启用", config: "配置", actions: "操作", del: "删除", delData: "删除（含数据）", edit: "编辑",
    mode: "运行方式", mode_process: "独立进程", mode_in_process: "进程内", failing: "故障", lastCrash: "上次崩溃", restarts: "重启次数",
    save: "保存", cancel: "取消", create: "创建", newInstance: "新建实例", id: "编号", secretKept: "留空则不变", required: "必填",
    confirmDelete: "删除实例 {0}？", confirmDeleteData: "删除实例 {0} 及其全部数据？此操作不可恢复。", enable: "启用", disable: "停用",
    newSchedule: "新建计划", name: "名称", optionalUnique: "可选，唯一", cron: "cron 表达式", zone: "时区", params: "参数", add: "添加",
    next: "下次：", last: "上次", cronExamples: "示例", confirmDeleteSchedule: "删除计划 {0}？", job: "作业", trigger: "触发",
    runNow: "立即运行", dryRun: "试运行（不写入）", run: "运行", queued: "已排队 {0}", started: "开始", fetched: "获取", ins: "新增",
    upd: "更新", unch: "未变", dels: "删除", message: "消息 / 错误", log: "日志", showLog: "查看日志", cancelRun: "取消运行",
    collection: "数据集", records: "记录数", deleted: "已删除", lastSynced: "最后同步", never: "从未", source: "来源",
    cache: "缓存数据", liveData: "实时数据", stale: "过期", refreshLive: "刷新数据", exportCsv: "导出 CSV", exportJson: "导出 JSON",
    more: "更多", key: "键", synced: "同步时间", changed: "变更时间", outbox: "发件箱积压", testMessage: "测试消息", send: "发送",
    channel: "渠道", state: "状态", attempts: "尝试", text: "内容", error: "错误", retry: "重试", created: "创建时间",
    newToken: "新建令牌（只显示一次）", role: "角色", by: "创建者", lastUsed: "最后使用", revoked: "已撤销", revoke: "撤销",
    copyNow: "请立即复制，之后不再显示：", confirmRevoke: "撤销该令牌？它将立即失效。", at: "时间", actor: "操作者", from: "来源",
    action: "动作", target: "对象", before: "之前", after: "之后", auditNote: "通过 API 和命令行所做的更改，最新在前（密钥显示为 ***）",
    noViews: "该插件未声明视图，可在“数据”中浏览其数据集。", noInstances: "还没有实例。", filter: "筛选", apply: "应用", all: "全部",
    answer: "返回结果", done: "完成", loading: "加载中…", language: "语言", progress: "进度", yes: "是", no: "否",
    justNow: "刚刚", reset: "事件已丢失，已重新加载",
    alerts: "告警", activeAlerts: "当前告警", alertRules: "告警规则", alertHistory: "告警历史", newRule: "新建告警规则", rule: "规则", threshold: "阈值",
    severity: "级别", repeatMinutes: "重复间隔(分钟)", listOnly: "仅列出", confirmDeleteRule: "删除告警规则 {0}？",
    sev_critical: "严重", sev_warning: "警告", sev_info: "提示", kind_consecutive_failures: "连续失败次数", kind_failures_24h: "24小时失败次数",
    kind_no_success_for: "无成功同步(小时)", kind_health_below: "健康分低于", kind_stale_collection: "数据集未更新(小时)",
    kind_run_slower_than: "运行超过(分钟)", kind_run_slower_than_median: "运行慢于中位数(倍)", kind_fetched_below_median: "获取量低于中位数(%)",
    kind_zero_rows_business_day: "工作日无数据", kind_upstream_errors: "上游错误(24小时次数)", errorClass: "错误类别",
    err_timeout: "超时", err_rate_limit: "限流 (429/45009)", err_auth: "认证失败", err_any: "任意错误",
    reports: "报表", newReport: "新建报表", view: "视图", fields: "字段", dateField: "日期字段", range: "日期范围", sums: "合计字段",
    rangeHint: "相对发送日 T 的天数：T-7..T-1 为前 7 天，T-1 为昨天", nextFire: "下次发送", lastOutcome: "上次结果", onDemand: "仅手动",
    preview: "预览", sendNow: "立即发送", confirmDeleteReport: "删除报表 {0}？",
    instanceHealth: "实例健康度", score: "健康分", successRate: "成功率", failed24h: "24小时失败", sinceSuccess: "距上次成功(小时)", punctuality: "准点率",
  },
  en: {
    title: "synchost console", overview: "Overview", views: "Views", instances: "Instances", schedules: "Schedules", runs: "Runs",
    data: "Data", notifications: "Notifications", tokens: "Tokens", audit: "Audit",
    signIn: "Sign in", adminToken: "Admin token", tokenHint: "printed by synchost at first start, or a token an admin created", signedIn: "signed in", signOut: "Sign out",
    live: "live", offline: "not connected (refreshing every 10 s)", host: "Host", status: "Status", version: "Version", plugins: "Plugins", kind: "Kind",
    jobs: "Jobs", collections: "Collections", loaded: "loaded", failed: "failed", inFlight: "Runs in flight", none: "none", recentFailures: "Recent failures",
    instance: "Instance", plugin: "Plugin", enabled: "Enabled", config: "Config", actions: "Actions", del: "Delete", delData: "Delete with data", edit: "Edit",
    mode: "Mode", mode_process: "worker process", mode_in_process: "in-process", failing: "failing", lastCrash: "last crash", restarts: "restarts",
    save: "Save", cancel: "Cancel", create: "Create", newInstance: "New instance", id: "id", secretKept: "leave empty to keep", required: "required",
    confirmDelete: "Delete instance {0}?", confirmDeleteData: "Delete instance {0} and all its data? This cannot be undone.", enable: "Enable", disable: "Disable",
    newSchedule: "New schedule", name: "Name", optionalUnique: "optional, unique", cron: "cron", zone: "Zone", params: "Params", add: "Add",
    next: "next: ", last: "Last", cronExamples: "Examples", confirmDeleteSchedule: "Delete schedule {0}?", job: "Job", trigger: "Trigger",
    runNow: "Run now", dryRun: "dry run (writes nothing)", run: "Run", queued: "queued {0}", started: "Started", fetched: "Fetched", ins: "Ins",
    upd: "Upd", unch: "Unch", dels: "Del", message: "Message / error", log: "Log", showLog: "log", cancelRun: "cancel",
    collection: "Collection", records: "Records", deleted: "Deleted", lastSynced: "Last synced", never: "never", source: "Source",
    cache: "cache", liveData: "live", stale: "stale", refreshLive: "Refresh data", exportCsv: "Export CSV", exportJson: "Export JSON",
    more: "More", key: "Key", synced: "Synced", changed: "Changed", outbox: "Outbox depth", testMessage: "Test message", send: "Send",
    channel: "Channel", state: "State", attempts: "Attempts", text: "Text", error: "Error", retry: "Retry", created: "Created",
    newToken: "New token (shown once)", role: "Role", by: "By", lastUsed: "Last used", revoked: "Revoked", revoke: "Revoke",
    copyNow: "copy it now, it is not shown again: ", confirmRevoke: "Revoke this token? It stops working at once.", at: "At", actor: "Actor", from: "From",
    action: "Action", target: "Target", before: "Before", after: "After", auditNote: "changes made through the API and the CLI, newest first (secrets shown as ***)",
    noViews: "This plugin declares no views; browse its collections under Data.", noInstances: "No instances yet.", filter: "Filter", apply: "Apply", all: "all",
    answer: "Answer", done: "done", loading: "loading…", language: "Language", progress: "Progress", yes: "yes", no: "no",
    justNow: "just now", reset: "events were missed; reloaded",
    alerts: "Alerts", activeAlerts: "Active alerts", alertRules: "Alert rules", alertHistory: "Alert history", newRule: "New alert rule", rule: "Rule", threshold: "Threshold",
    severity: "Severity", repeatMinutes: "Repeat (minutes)", listOnly: "listed only", confirmDeleteRule: "Delete alert rule {0}?",
    sev_critical: "critical", sev_warning: "warning", sev_info: "info", kind_consecutive_failures: "consecutive failures", kind_failures_24h: "failed runs in 24 h",
    kind_no_success_for: "no success for (hours)", kind_health_below: "health score below", kind_stale_collection: "collection not synced for (hours)",
    kind_run_slower_than: "run longer than (minutes)", kind_run_slower_than_median: "run slower than its median (×)",
    kind_fetched_below_median: "fetched below its median (%)", kind_zero_rows_business_day: "nothing fetched on a business day",
    kind_upstream_errors: "upstream errors in 24 h", errorClass: "Error class",
    err_timeout: "timeout", err_rate_limit: "rate limit (429/45009)", err_auth: "auth refused", err_any: "any error",
    reports: "Reports", newReport: "New report", view: "View", fields: "Fields", dateField: "Date field", range: "Date range", sums: "Sum fields",
    rangeHint: "days before the sending day T: T-7..T-1 is the 7 days before, T-1 yesterday", nextFire: "Next send", lastOutcome: "Last outcome",
    onDemand: "on demand only", preview: "Preview", sendNow: "Send now", confirmDeleteReport: "Delete report {0}?",
    instanceHealth: "Instance health", score: "Score", successRate: "Success rate", failed24h: "Failed in 24 h", sinceSuccess: "Hours since a success", punctuality: "Punctuality",
  },
};
const CRON_EXAMPLES = [
  ["0 7 * * *", "每天 07:00", "every day at 07:00"], ["*/10 9-23 * * *", "9–23 点每 10 分钟", "every 10 minutes, 09–23"],
  ["0 1,10,15,21 * * *", "每天 1、10、15、21 点", "at 01, 10, 15 and 21 h"], ["30 1 * * *", "每天 01:30", "every day at 01:30"],
  ["0 9 * * mon-fri", "工作日 09:00", "weekdays at 09:00"], ["0 3 * * 0", "每周日 03:00", "Sundays at 03:00"],
];
let lang = localStorage.getItem("lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en");
function t(key, ...args) {
  let s = (I18N[lang] && I18N[lang][key]) ?? I18N.en[key] ?? key;
  args.forEach((a, i) => { s = s.replace("{" + i + "}", a); });
  return s;
}
/** A plugin's label in the current language. */
const L = o => (o == null ? "" : typeof o === "string" ? o : (lang === "zh-CN" ? o["zh-CN"] : o.en) || o.en || o["zh-CN"] || "");
/** Switches the page's language; a choice the user made is remembered (the browser's language is only followed). */
function setLanguage(l, remember = true) {
  lang = l;
  if (remember) localStorage.setItem("lang", l);
  document.documentElement.lang = l;
  document.title = t("title");
}
