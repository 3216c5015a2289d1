// The receipt page's own check of its evaluation's inclusion proof (R8.1; docs/verifiable-log.md).
// Self-contained: SM3 (GB/T 32905) is implemented below, no library and no other server call than the proof.
// What it checks: SM3(0x00 || leaf) climbs the audit path (RFC 9162 §2.1.3.2, SM3 for SHA-256) to the root the
// checkpoint publishes, the checkpoint's signed text names that size and root, and the leaf carries this page's
// 存证摘要, level, stage, type and channel. The SM2 signature is checked by tools/verify_log.py, not here.
(function () {
  "use strict";

  // --- SM3 --------------------------------------------------------------------------------------------------
  var IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

  function rotl(x, n) {
    n %= 32;
    return ((x << n) | (x >>> (32 - n))) >>> 0;
  }
  function p0(x) { return (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0; }
  function p1(x) { return (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0; }

  function sm3(bytes) {
    var len = bytes.length;
    var padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[len] = 0x80;
    var bits = len * 8;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padded.length - 4, bits >>> 0);
    var v = IV.slice();
    var w = new Array(68), w1 = new Array(64);
    for (var off = 0; off < padded.length; off += 64) {
      var j;
      for (j = 0; j < 16; j++) w[j] = view.getUint32(off + 4 * j);
      for (j = 16; j < 68; j++) {
        w[j] = (p1((w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) >>> 0) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
      }
      for (j = 0; j < 64; j++) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
      var a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
      for (j = 0; j < 64; j++) {
        var t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
        var ss1 = rotl((rotl(a, 12) + e + rotl(t, j)) >>> 0, 7);
        var ss2 = (ss1 ^ rotl(a, 12)) >>> 0;
        var ff = j < 16 ? (a ^ b ^ c) : ((a & b) | (a & c) | (b & c));
        var gg = j < 16 ? (e ^ f ^ g) : ((e & f) | (~e & g));
        var tt1 = ((ff >>> 0) + d + ss2 + w1[j]) >>> 0;
        var tt2 = ((gg >>> 0) + h + ss1 + w[j]) >>> 0;
        d = c; c = rotl(b, 9); b = a; a = tt1;
        h = g; g = rotl(f, 19); f = e; e = p0(tt2);
      }
      v = [v[0] ^ a, v[1] ^ b, v[2] ^ c, v[3] ^ d, v[4] ^ e, v[5] ^ f, v[6] ^ g, v[7] ^ h].map(function (x) { return x >>> 0; });
    }
    var out = new Uint8Array(32);
    var outView = new DataView(out.buffer);
    for (var i = 0; i < 8; i++) outView.setUint32(4 * i, v[i]);
    return out;
  }

  function utf8(text) { return new TextEncoder().encode(text); }
  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
  }
  function fromHex(hex) {
    if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) throw new Error("包含证明中的哈希格式不正确");
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }
  function prefixed(prefix, parts) {
    var size = 1;
    parts.forEach(function (p) { size += p.length; });
    var out = new Uint8Array(size);
    out[0] = prefix;
    var at = 1;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function leafHash(bytes) { return sm3(prefixed(0, [bytes])); }
  function nodeHash(left, right) { return sm3(prefixed(1, [left, right])); }

  // RFC 9162 §2.1.3.2 with plain arithmetic (bit operators stop at 2^31 leaves).
  function rootFromInclusion(index, size, hash, path) {
    if (!(index >= 0 && index < size)) return null;
    var fn = index, sn = size - 1, r = hash;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(path[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = nodeHash(r, path[i]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // Exposed for the browser test's fixed vectors; the page itself does not need it.
  window.haochapingLog = { sm3: function (text) { return toHex(sm3(utf8(text))); }, leafHash: leafHash,
                           rootFromInclusion: rootFromInclusion };

  // --- the receipt page -------------------------------------------------------------------------------------
  var box = document.getElementById("log-proof");
  if (!box || !box.dataset.proofUrl) return;
  var status = document.getElementById("log-status");

  function show(ok, message) {
    status.textContent = message;
    status.className = ok ? "notice log-ok" : "error log-failed";
    status.setAttribute("data-verified", ok ? "yes" : "no");
  }

  function localTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var parts = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "numeric",
      day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(d);
    var get = function (type) { var p = parts.find(function (x) { return x.type === type; }); return p ? p.value : ""; };
    return get("year") + "年" + get("month") + "月" + get("day") + "日 " + get("hour") + ":" + get("minute");
  }

  function verify(proof) {
    var leaf = JSON.parse(proof.leaf);
    var cp = proof.checkpoint;
    var mismatch = [];
    if (leaf.kind !== "evaluation") mismatch.push("叶子类型");
    if (leaf.digest !== box.dataset.digest) mismatch.push("存证摘要");
    if (String(leaf.level) !== box.dataset.level) mismatch.push("评价等级");
    if (leaf.stage !== box.dataset.stage) mismatch.push("评价环节");
    if (leaf.type !== box.dataset.type) mismatch.push("评价类型");
    if (leaf.channel !== box.dataset.channel) mismatch.push("评价渠道");
    if (String(proof.leaf_index) !== document.getElementById("log-leaf-index").textContent.trim()) mismatch.push("叶子序号");
    if (mismatch.length) {
      return show(false, "核验未通过：日志中的记录与您的评价不一致（" + mismatch.join("、") + "）。请保存本页并向政务服务管理机构反映。");
    }
    var root = rootFromInclusion(proof.leaf_index, proof.tree_size, leafHash(utf8(proof.leaf)), proof.audit_path.map(fromHex));
    var lines = String(cp.text || "").split("\n");
    if (root === null || proof.tree_size !== cp.tree_size) {
      return show(false, "核验未通过：包含证明的长度或树大小不正确。请保存本页并向政务服务管理机构反映。");
    }
    if (toHex(root) !== cp.root_hash || lines[2] !== String(cp.tree_size) || lines[3] !== cp.root_hash) {
      return show(false, "核验未通过：按包含证明算出的根哈希与检查点公布的不一致。请保存本页并向政务服务管理机构反映。");
    }
    document.getElementById("log-tree-size").textContent = String(cp.tree_size);
    document.getElementById("log-root").textContent = cp.root_hash;
    document.getElementById("log-signed-at").textContent = localTime(cp.signed_at);
    var list = document.getElementById("log-path");
    proof.audit_path.forEach(function (h) { var li = document.createElement("li"); li.textContent = h; list.appendChild(li); });
    document.getElementById("log-details").hidden = false;
    show(true, "核验通过：您的评价已记入" + localTime(cp.signed_at) + "封存的检查点（共 " + cp.tree_size +
      " 条记录），本页按包含证明算出的根哈希与公布的一致，评价内容未被改动。");
  }

  fetch(box.dataset.proofUrl, { headers: { Accept: "application/json" }, credentials: "omit" })
    .then(function (r) {
      if (!r.ok) throw new Error("暂时取不到包含证明（HTTP " + r.status + "），请稍后刷新本页。");
      return r.json();
    })
    .then(verify)
    .catch(function (e) { show(false, "核验未完成：" + (e && e.message ? e.message : e)); });
})();
