// Jobs: Skytells predictions and GateAI tasks of every key, their timeline on the virtual clock, cost and outputs.
import {call, query} from "../api.js";
import {badge, bytes, field, fill, h, jsonBlock, money, setError, statusBadge, time} from "../dom.js";

const view = {};
let filters, listEl, count;
const cards = new Map();

view.mount = (panel) => {
  filters = {
    kind: field("Kind", h("select", {}, h("option", {value: ""}, "all"), h("option", {value: "prediction"}, "Skytells predictions"),
      h("option", {value: "task"}, "GateAI tasks"))),
    status: field("Status", h("input", {placeholder: "succeeded, FINISHED …", size: 14})),
    key: field("Key", h("input", {placeholder: "sk-…", size: 18})),
  };
  for (const f of Object.values(filters)) f.input.addEventListener("change", () => refresh());
  const form = h("form", {class: "row", role: "search", "aria-label": "Filter jobs", onsubmit: (e) => { e.preventDefault(); refresh(); }},
    Object.values(filters).map((f) => f.wrap), h("button", {type: "submit"}, "Filter"));
  count = h("p", {class: "muted", "aria-live": "polite"});
  listEl = h("div", {class: "cards"});
  fill(panel, h("h2", {}, "Jobs"), h("div", {class: "panel"}, form), count, listEl);
};

async function refresh() {
  const params = {limit: 100};
  for (const [name, f] of Object.entries(filters)) params[name] = f.input.value.trim();
  let page;
  try {
    page = await call("jobs" + query(params));
    Object.values(filters).forEach((f) => setError(f, ""));
  } catch (error) {
    if (filters[error.param]) { setError(filters[error.param], error.message); return; }
    throw error;
  }
  count.textContent = `${page.count} of ${page.total} jobs (newest first)`;
  const shown = page.data.map((job) => {
    const signature = JSON.stringify(job);
    const known = cards.get(job.id);
    if (known && known.signature === signature) return known.el;
    const el = card(job);
    cards.set(job.id, {signature, el});
    return el;
  });
  const live = new Set(page.data.map((job) => job.id));
  for (const id of [...cards.keys()]) if (!live.has(id)) cards.delete(id);
  if (!shown.length) { fill(listEl, h("p", {class: "empty"}, "No predictions or tasks yet.")); return; }
  const same = shown.length === listEl.children.length && shown.every((el, i) => listEl.children[i] === el);
  if (!same) fill(listEl, shown);
}

function card(job) {
  const start = job.timeline.length ? job.timeline[0].epoch : job.created_epoch;
  return h("article", {class: "panel card", "data-job": job.id, "aria-labelledby": "job-" + job.id},
    h("h3", {id: "job-" + job.id}, statusBadge(job.status), h("span", {class: "mono"}, job.model),
      badge(job.kind === "prediction" ? "Skytells" : "GateAI", "")),
    h("p", {class: "mono muted"}, job.id),
    h("dl", {class: "kv"},
      h("dt", {}, "key"), h("dd", {}, job.masked),
      h("dt", {}, "created"), h("dd", {}, time(job.created_at)),
      h("dt", {}, "cost"), h("dd", {}, money(job.cost) + (job.refunded ? " (refunded)" : ""))),
    h("h4", {}, "Timeline (virtual clock)"),
    h("ol", {class: "timeline"}, job.timeline.map((step) => h("li", {class: step.reached ? "reached" : "pending"},
      h("strong", {}, step.status), ` ${time(step.at).slice(11)} (+${(step.epoch - start).toFixed(2)} s)`,
      step.reached ? "" : h("span", {class: "muted"}, " — not yet")))),
    job.error ? h("p", {class: "field-error", role: "note"}, "Error: " + job.error) : null,
    outputs(job),
    h("details", {}, h("summary", {}, "As the API returns it"), jsonBlock(job.object, "Job object")));
}

function outputs(job) {
  if (!job.outputs.length && !job.links.length) return null;
  const models = job.outputs.filter((o) => o.media === "model");
  const items = job.outputs.map((o, i) => {
    const label = `${job.model} output ${i + 1}`;
    switch (o.media) {
      case "image": return h("figure", {style: "margin:0"}, h("img", {src: o.url, alt: models.length ? `Preview of ${label}` : label, loading: "lazy"}));
      case "audio": return h("audio", {src: o.url, controls: true, preload: "none", "aria-label": label});
      case "video": return h("video", {src: o.url, controls: true, preload: "metadata", "aria-label": label});
      default: return null;
    }
  });
  const downloads = job.outputs.map((o) => h("li", {}, h("a", {href: o.url, download: o.name}, o.name),
    ` ${o.content_type}, ${bytes(o.size)}${o.media === "model" ? " (3D model)" : ""}`));
  return [
    h("h4", {}, "Outputs"),
    h("div", {class: "media"}, items),
    h("ul", {}, downloads, job.links.map((url) => h("li", {}, h("a", {href: url, rel: "noreferrer"}, url), " (scripted)"))),
  ];
}

view.refresh = refresh;
export default view;
