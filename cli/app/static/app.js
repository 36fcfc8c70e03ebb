// 医保征缴助手: the page. Plain JavaScript, no framework, nothing from the network.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const state = { actions: {}, current: null, memory: {}, browseTarget: null };

function api(path, options = {}) {
  options.headers = Object.assign({ "X-Yibao-Token": TOKEN }, options.headers || {});
  return fetch(path, options).then(async (r) => {
    let body = null;
    try { body = await r.json(); } catch (e) { body = { error: `服务器返回了无法识别的内容（${r.status}）` }; }
    if (!r.ok) throw new Error(body.error || `请求失败（${r.status}）`);
    return body;
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function fileUrl(path, download) {
  return `/file?path=${encodeURIComponent(path)}${download ? "&download=1" : ""}`;
}

// ------------------------------------------------------------ start
async function start() {
  const s = await api("/api/state");
  document.getElementById("version").textContent = `yibao ${s.version}`;
  document.getElementById("results").textContent = s.results;
  state.start = s.start;
  const plan = document.getElementById("plan");
  for (const p of s.plans) plan.append(el("option", { value: p.id }, `${p.name}（${p.id}）`));
  const buttons = document.getElementById("buttons");
  for (const a of s.actions) {
    state.actions[a.id] = a;
    buttons.append(el("button", { type: "button", "data-action": a.id, title: a.help, onclick: () => showForm(a.id) }, a.label));
  }
  setupBrowser();
  // a reloaded page shows what this run of the app has done and is doing
  for (const job of await api("/api/jobs")) addJob(job, false);
}

// ------------------------------------------------------------ forms
function memoryKey(action, field) {
  if (["ledgers", "this", "others"].includes(field.dest) || (field.dest === "files" && field.label.startsWith("台账"))) return "ledgers";
  // the same list in another action's form (dedupe's lists are the departments' subsidy lists: its own;
  // 应参未参's roster is the household register, not the merged subsidy list: the help tells them apart)
  if (["deceased", "employee", "roster"].includes(field.dest) || (field.dest === "lists" && action.id !== "dedupe")) {
    return `${field.dest}|${field.label}`;
  }
  return `${action.id}.${field.dest}`;
}

function showForm(id) {
  const action = state.actions[id];
  state.current = action;
  document.querySelectorAll("#buttons button").forEach((b) => b.classList.toggle("on", b.dataset.action === id));
  document.getElementById("form-card").hidden = false;
  document.getElementById("form-title").textContent = action.label;
  document.getElementById("form-help").textContent = action.help;
  const form = document.getElementById("form");
  form.replaceChildren();
  const main = [], more = [];
  for (const f of action.fields) {
    if (f.kind === "fixed") continue;
    const widget = fieldWidget(action, f);
    (f.required || (f.kind === "files" || f.kind === "file") && !["deceased", "employee", "lists", "roster", "others"].includes(f.dest)
      || (action.id === "new_ledger" && f.dest === "village") ? main : more).push(widget);
  }
  form.append(...main);
  // a remembered file in a further option is shown, never sent unseen
  const filled = more.some((w) => w.querySelector(".chips li"));
  if (more.length) form.append(el("details", { open: filled }, el("summary", {}, "更多选项"), ...more));
  if (action.plan_required) form.append(el("p", { class: "hint" }, "此项要先在上方“选择方案”中选定方案。"));
  form.append(el("div", { class: "form-error", id: "form-error", role: "alert" }));
  form.append(el("button", { type: "submit", class: "go", id: "go" }, `开始${action.label}`));
  form.onsubmit = (e) => { e.preventDefault(); run(action); };
  document.getElementById("form-card").scrollIntoView({ behavior: "smooth", block: "start" });
}

function fieldWidget(action, f) {
  const label = el("span", { class: "label" }, f.label, f.required ? el("span", { class: "req" }, "（必填）") : null);
  const box = el("div", { class: "field", "data-dest": f.dest, "data-kind": f.kind }, label);
  if (f.kind === "flag") {
    box.replaceChildren(el("label", {}, el("input", { type: "checkbox", name: f.dest }), " ", f.label));
  } else if (f.kind === "file" || f.kind === "files") {
    box.append(fileWidget(action, f));
  } else if (f.choices) {
    box.append(el("select", { name: f.dest }, el("option", { value: "" }, "（默认）"), f.choices.map((c) => el("option", { value: c }, c))));
  } else {
    const type = f.kind === "int" ? "number" : f.kind === "date" ? "date" : "text";
    const placeholder = f.kind === "output" ? (f.inplace ? "不填：结果写进原工作簿（先备份）" : "不填：用默认文件名，存入结果文件夹")
      : f.kind === "outdir" ? "不填：用默认文件夹名，存入结果文件夹" : f.repeat ? "可填多个，用；隔开" : "";
    box.append(el("input", { type, name: f.dest, placeholder }));
    if (f.kind === "output") box.append(el("div", { class: "hint" }, "只写文件名；文件存入助手的结果文件夹。"));
    if (f.kind === "outdir") box.append(el("div", { class: "hint" }, "只写文件夹名；文件夹建在助手的结果文件夹里。"));
  }
  return box;
}

function fileWidget(action, f) {
  const key = memoryKey(action, f);
  const items = (state.memory[key] || []).slice(0, f.kind === "file" ? 1 : undefined);
  const chips = el("ul", { class: "chips" });
  const drop = el("div", { class: "drop", "data-dest": f.dest });
  const render = () => {
    chips.replaceChildren(...items.map((it, i) => el("li", { title: it.path }, it.kind === "dir" ? el("span", { class: "tag" }, "文件夹") : null, it.name,
      el("button", { type: "button", title: "去掉", onclick: () => { items.splice(i, 1); render(); } }, "×"))));
    drop._items = items;
    state.memory[key] = items;
  };
  const add = (list) => {
    for (const it of list) {
      if (f.kind === "file") items.length = 0;
      if (!items.some((x) => x.path === it.path)) items.push(it);
    }
    render();
  };
  drop._add = add;
  const pick = el("input", { type: "file", multiple: f.kind === "files", hidden: true, class: "pick-files",
    onchange: (e) => upload([...e.target.files].map((file) => [file, file.name]), add, drop) });
  const pickDir = el("input", { type: "file", hidden: true, class: "pick-folder", webkitdirectory: true,
    onchange: (e) => upload([...e.target.files].map((file) => [file, file.webkitRelativePath || file.name]), add, drop) });
  const pathInput = el("input", { type: "text", class: "path", placeholder: "或粘贴路径，如 D:\\台账\\东山村.xlsx" });
  const addPath = async () => {
    const text = pathInput.value.trim();
    if (!text) return;
    try {
      const r = await api(`/api/browse?path=${encodeURIComponent(text)}`);
      add([{ path: r.path, name: r.name, kind: r.kind }]);
      pathInput.value = "";
      setError("");
    } catch (e) { setError(e.message); }
  };
  pathInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addPath(); } });
  drop.append(
    el("div", { class: "tools" },
      el("button", { type: "button", onclick: () => pick.click() }, "选择文件"),
      f.kind === "files" ? el("button", { type: "button", onclick: () => pickDir.click() }, "选择文件夹") : null,
      el("button", { type: "button", onclick: () => openBrowser(add, f.kind) }, "浏览本机文件"),
      pathInput, el("button", { type: "button", class: "add-path", onclick: addPath }, "添加"),
      el("span", {}, f.kind === "files" ? "或把文件、文件夹拖到这里" : "或把文件拖到这里")),
    pick, pickDir, chips);
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    const files = [];
    for (const entry of entries) await walk(entry, "", files);
    if (!entries.length) for (const file of e.dataTransfer.files) files.push([file, file.name]);
    upload(files, add, drop);
  });
  render();
  return drop;
}

function walk(entry, prefix, out) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => { out.push([file, prefix + file.name]); resolve(); }, () => resolve());
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const all = [];
      const next = () => reader.readEntries(async (batch) => {
        if (!batch.length) {
          for (const child of all) await walk(child, `${prefix}${entry.name}/`, out);
          resolve();
        } else { all.push(...batch); next(); }
      }, () => resolve());
      next();
    } else resolve();
  });
}

async function upload(files, add, drop) {
  if (!files.length) return;
  const data = new FormData();
  for (const [file, rel] of files) { data.append("file", file, file.name); data.append("relpath", rel); }
  drop.classList.add("over");
  try {
    const r = await api("/api/upload", { method: "POST", body: data });
    add(r.items);
    setError("");
  } catch (e) { setError(e.message); } finally { drop.classList.remove("over"); }
}

function setError(text) {
  const box = document.getElementById("form-error");
  if (box) box.textContent = text;
}

function formValues(action) {
  const values = {};
  for (const box of document.querySelectorAll("#form .field")) {
    const dest = box.dataset.dest, kind = box.dataset.kind;
    if (kind === "file" || kind === "files") values[dest] = (box.querySelector(".drop")._items || []).map((i) => i.path);
    else if (kind === "flag") values[dest] = box.querySelector("input").checked;
    else values[dest] = box.querySelector("input, select").value;
  }
  return values;
}

// ------------------------------------------------------------ jobs
async function run(action) {
  setError("");
  const go = document.getElementById("go");
  go.disabled = true;
  try {
    const job = await api("/api/run", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action: action.id, plan: document.getElementById("plan").value, values: formValues(action) }) });
    addJob(job);
  } catch (e) { setError(e.message); } finally { go.disabled = false; }
}

function addJob(job, scroll = true) {
  document.getElementById("jobs-card").hidden = false;
  const card = el("div", { class: "job", id: `job-${job.id}`, "data-state": job.state });
  document.getElementById("jobs").prepend(card);
  showJob(card, job);
  if (scroll) card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  if (job.state === "running") poll(card, job.id);
}

function poll(card, id) {
  setTimeout(async () => {
    let job;
    try { job = await api(`/api/jobs/${id}`); } catch (e) { return poll(card, id); }
    showJob(card, job);
    if (job.state === "running") poll(card, id);
  }, 400);
}

function cellText(v) { return v === null || v === undefined ? "" : String(v); }

function showJob(card, job) {
  card.dataset.state = job.state;
  const parts = [el("h3", {}, `${job.label}`, job.state === "running" ? `（进行中，${job.seconds}秒）` : "")];
  if (job.state === "running") {
    // the command's own bar while it counts (e.g. 读取台账 3/4); after it, work that is not counted
    const counted = job.progress != null && job.progress < 1;
    const bar = el("div", { class: counted ? "bar" : "bar indeterminate" }, el("div", {}));
    if (counted) bar.firstChild.style.width = `${Math.round(job.progress * 100)}%`;
    parts.push(bar, el("div", { class: "notes" }, counted ? `${job.stage} ${Math.round(job.progress * 100)}%`
      : job.stage ? `${job.stage}完成，正在处理，请稍候……` : "正在处理，请稍候……"));
  } else {
    parts.push(el("div", { class: `line ${job.code === 0 ? "ok" : "bad"}`, role: "status" }, job.line));
    const notes = (job.notes || []).filter((n) => n !== job.line);
    if (notes.length) parts.push(el("div", { class: "notes" }, notes.join("\n")));
    const more = (job.output || "").trim().split("\n").filter((x) => x.trim() && x !== job.line);
    parts.push(el("details", { class: "more" }, el("summary", {}, "详细输出和对应的命令"),
      more.length ? el("pre", { class: "notes" }, more.join("\n")) : null,
      el("p", { class: "hint" }, "在命令提示符里运行这条命令，结果相同："), el("pre", { class: "notes command" }, job.command)));
    if (job.findings) parts.push(findingsTable(job.findings));
    if (job.chart) parts.push(el("h4", {}, "进度通报图"), el("img", { class: "chart", src: fileUrl(job.chart), alt: "进度通报条形图" }));
    else if (job.progress_table) parts.push(el("h4", {}, "进度通报"), simpleTable(job.progress_table));
    if (job.files && job.files.length) parts.push(filesList(job));
  }
  card.replaceChildren(...parts);
}

function simpleTable(rows) {
  const [head, ...body] = rows;
  return el("table", { class: "progress" }, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, body.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
}

const SHOWN = 15;
const SEVERITY = { "错误": 0, "警告": 1, "提示": 2 };

function findingsTable(f) {
  if (!f.total) return el("p", { class: "hint" }, "没有发现问题。");
  const col = (name) => f.header.indexOf(name);
  const sev = col("严重程度"), ref = col("单元格"), sheet = col("工作表"), name = col("姓名"), msg = col("问题");
  const rows = f.rows.slice().sort((a, b) => (SEVERITY[a.cells[sev]] ?? 3) - (SEVERITY[b.cells[sev]] ?? 3));
  const line = (r, i) => el("tr", { hidden: i >= SHOWN },
    el("td", { class: "nowrap" }, r.book),
    el("td", { class: "ref" }, el("a", { href: "#", title: `用Excel或WPS打开“${r.book}”，到“${r.cells[sheet]}”工作表的${r.cells[ref]}单元格`,
      onclick: (e) => { e.preventDefault(); openFile(r.path); } }, `${r.cells[sheet]}!${r.cells[ref]}`)),
    el("td", { class: "nowrap" }, cellText(r.cells[name])),
    el("td", { class: `nowrap sev-${r.cells[sev]}` }, cellText(r.cells[sev])),
    el("td", {}, cellText(r.cells[msg])));
  const body = el("tbody", {}, rows.map(line));
  const all = f.total > f.rows.length ? `，这里列出前${f.rows.length}处，全部见台账中的“${f.sheet}”工作表` : "";
  const more = rows.length > SHOWN ? el("button", { type: "button", class: "small show-all", onclick: (e) => {
    body.querySelectorAll("tr[hidden]").forEach((tr) => { tr.hidden = false; }); e.target.remove(); } },
    `显示全部${rows.length}处`) : null;
  return el("div", {},
    el("h4", {}, `发现的问题（${f.total}处，错误在前${all}）；点单元格地址用Excel或WPS打开台账`),
    el("table", { class: "findings" }, el("thead", {}, el("tr", {}, ["文件", "位置", "姓名", "严重程度", "问题"].map((h) => el("th", {}, h)))),
      body), more);
}

function filesList(job) {
  return el("div", {}, el("h4", {}, "结果文件"),
    el("ul", { class: "files" }, job.files.map((f) => el("li", {},
      el("strong", {}, f.name), !f.changed ? "" : f.uploaded ? "（上传的副本已更新，您电脑上的原文件没有改动；要保留结果请“另存为”）"
        : "（原文件已更新，修改前的版本已备份在同一文件夹）",
      el("a", { href: "#", class: "open", onclick: (e) => { e.preventDefault(); openFile(f.path); } }, "打开"),
      el("a", { href: fileUrl(f.path, true), download: f.name, class: "save" }, "另存为")))),
    job.folder ? el("p", { class: "hint" }, "保存在：", el("code", {}, job.folder)) : null);
}

async function openFile(path) {
  try { await api("/api/open", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path }) }); }
  catch (e) { alert(e.message); }
}

// ------------------------------------------------------------ browser
function setupBrowser() {
  document.getElementById("browse-up").onclick = () => state.browseUp && browse(state.browseUp);
  document.getElementById("browse-pick-folder").onclick = () => {
    if (state.browseAdd && state.browseKind === "files") state.browseAdd([{ path: state.browsePath, name: state.browsePath.split(/[\\/]/).pop(), kind: "dir" }]);
    document.getElementById("browser").close();
  };
}

function openBrowser(add, kind) {
  state.browseAdd = add;
  state.browseKind = kind;
  document.getElementById("browse-pick-folder").hidden = kind !== "files";
  browse(state.browsePath || state.start);
  document.getElementById("browser").showModal();
}

async function browse(path) {
  let r;
  try { r = await api(`/api/browse?path=${encodeURIComponent(path)}`); } catch (e) { alert(e.message); return; }
  state.browsePath = r.path;
  state.browseUp = r.up;
  document.getElementById("browse-up").disabled = !r.up;
  document.getElementById("browse-path").textContent = r.path;
  document.getElementById("browse-list").replaceChildren(...r.entries.map((it) => el("li", { class: it.kind, title: it.path,
    onclick: () => {
      if (it.kind === "dir") browse(it.path);
      else { state.browseAdd([{ path: it.path, name: it.name, kind: "file" }]); document.getElementById("browser").close(); }
    } }, it.kind === "dir" ? el("span", { class: "tag" }, "文件夹") : null, it.name)));
}

document.addEventListener("DOMContentLoaded", start);
