/* thematic default site theme: search.
   The index is written by `thematic build` under search/ as small script files
   (see src/search/mod.rs): they load with <script> elements, which browsers
   allow from a folder on disk, where fetch() is refused. A search loads
   search/meta.js, the one shard of each word, and the document chunks of the
   results it shows. */
(function () {
  'use strict';

  var script = document.currentScript;
  var indexBase = new URL('../search/', script.src).href;
  var siteRoot = new URL('../', script.src).href;
  var PAGE = 10;
  var MIN_PREFIX = 3;

  // ---- Loading the index --------------------------------------------------
  var store = { meta: null, terms: {}, docs: {}, facet: {} };
  window.thematicSearch = {
    meta: function (m) { store.meta = m; },
    terms: function (key, map) { store.terms[key] = map; },
    docs: function (n, list) { store.docs[n] = list; },
    facet: function (name, postings) { store.facet[name] = postings; }
  };
  var loading = {};
  function load(path, get) {
    var have = get();
    if (have !== undefined && have !== null) return Promise.resolve(have);
    var url = indexBase + path;
    if (!loading[url]) {
      loading[url] = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = url;
        s.async = true;
        s.onload = function () { resolve(); };
        s.onerror = function () { reject(new Error('The search index file ' + path + ' could not be loaded.')); };
        document.head.appendChild(s);
      });
    }
    return loading[url].then(get);
  }
  function meta() { return load('meta.js', function () { return store.meta; }); }

  // ---- Words: the same rules as src/search/text.rs ------------------------
  var WORD = /[\p{L}\p{N}\p{M}]+/gu;
  var SPELLED = { 'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'ł': 'l', 'đ': 'd', 'ð': 'd', 'þ': 'th', 'ı': 'i' };
  function fold(word) {
    var lower = word.toLowerCase();
    if (/^[\x00-\x7f]*$/.test(lower)) return lower;
    return lower.normalize('NFKD').replace(/\p{M}/gu, '')
      .replace(/[ßæœøłđðþı]/g, function (c) { return SPELLED[c]; });
  }
  function umlautSpelling(word) {
    var lower = word.toLowerCase().normalize('NFC');
    if (!/[äöü]/.test(lower)) return null;
    return fold(lower.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue'));
  }
  function queryWords(q) {
    var seen = {}, out = [];
    (q.match(WORD) || []).forEach(function (w) {
      var f = fold(w);
      if (f && !seen[f]) { seen[f] = true; out.push(f); }
    });
    return out;
  }

  // ---- Shards and postings --------------------------------------------------
  var ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
  var VALUE = {};
  for (var i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charAt(i)] = i;

  function decode(s, mark, value) {
    if (s.charAt(0) === '!') {
      for (var k = 1; k < s.length; k++) {
        var v = VALUE[s.charAt(k)];
        for (var bit = 0; bit < 6; bit++) if (v & (1 << bit)) mark[(k - 1) * 6 + bit] = Math.max(mark[(k - 1) * 6 + bit], value);
      }
      return;
    }
    var cur = 0, shift = 0, prev = -1;
    for (var j = 0; j < s.length; j++) {
      var c = VALUE[s.charAt(j)];
      cur += (c & 31) * Math.pow(2, shift);
      shift += 5;
      if (!(c & 32)) {
        var d = prev + cur + 1;
        mark[d] = Math.max(mark[d], value);
        prev = d; cur = 0; shift = 0;
      }
    }
  }

  function shardKey(term, m) {
    var chars = Array.from(term);
    var len = Math.min(m.prefix, chars.length);
    for (;;) {
      var key = chars.slice(0, len).join('');
      if (m.splitSet[key] !== true) return key;
      if (len === chars.length) return key + '$';
      len++;
    }
  }
  function fileKey(key) {
    var out = '';
    Array.from(key).forEach(function (c) {
      if (/[a-z0-9]/.test(c)) out += c;
      else if (c === '$') out += '-';
      else out += '_' + c.codePointAt(0).toString(16) + '_';
    });
    return out;
  }
  function shard(key, m) {
    if (m.keySet[key] !== true) return Promise.resolve({});
    return load('t/' + fileKey(key) + '.js', function () { return store.terms[key]; });
  }

  /* Documents matching one word: 2 where a term equals it, 1 where a term starts
     with it (words of three letters or more). */
  function matchWord(word, m) {
    var key = shardKey(word, m);
    var keys = [key];
    if (key.charAt(key.length - 1) === '$' && word.length >= MIN_PREFIX) {
      m.keys.forEach(function (k) {
        if (k !== key && k.indexOf(word) === 0 && keys.length < 24) keys.push(k);
      });
    }
    return Promise.all(keys.map(function (k) { return shard(k, m); })).then(function (maps) {
      var mark = new Uint8Array(m.docs);
      maps.forEach(function (map) {
        Object.keys(map).forEach(function (term) {
          if (term === word) decode(map[term], mark, 2);
          else if (word.length >= MIN_PREFIX && term.indexOf(word) === 0) decode(map[term], mark, 1);
        });
      });
      return mark;
    });
  }

  function facet(name) {
    return load('f/' + name + '.js', function () { return store.facet[name]; });
  }

  function search(words, narrow, m) {
    var jobs = words.map(function (w) { return matchWord(w, m); });
    Object.keys(narrow).forEach(function (kind) {
      jobs.push(facet(kind + '-' + narrow[kind]).then(function (p) {
        var mark = new Uint8Array(m.docs);
        decode(p, mark, 1);
        return { facet: mark };
      }));
    });
    return Promise.all(jobs).then(function (marks) {
      var hits = [];
      for (var d = 0; d < m.docs; d++) {
        var score = 0, ok = true;
        for (var k = 0; k < marks.length; k++) {
          var mk = marks[k].facet || marks[k];
          if (!mk[d]) { ok = false; break; }
          if (!marks[k].facet) score += mk[d];
        }
        if (ok) hits.push([score, d]);
      }
      hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
      return hits.map(function (h) { return h[1]; });
    });
  }

  function doc(n, m) {
    var lo = 0, hi = m.chunks.length - 1;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (m.chunks[mid] > n) hi = mid; else lo = mid + 1;
    }
    var start = lo === 0 ? 0 : m.chunks[lo - 1];
    return load('d/' + lo + '.js', function () { return store.docs[lo]; })
      .then(function (list) { return list[n - start]; });
  }

  // ---- Showing results ----------------------------------------------------
  function matches(token, words) {
    var f = fold(token), s = umlautSpelling(token);
    return words.some(function (w) {
      return f === w || s === w ||
        (w.length >= MIN_PREFIX && (f.indexOf(w) === 0 || (s !== null && s.indexOf(w) === 0)));
    });
  }

  /* The text around the first match, with every match marked; null when the text
     has no match. Built as DOM nodes: quote text is never parsed as HTML. */
  function snippet(text, words, length) {
    if (!text) return null;
    var tokens = [], m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(text)) !== null) tokens.push([m.index, m.index + m[0].length, matches(m[0], words)]);
    var first = -1;
    for (var i = 0; i < tokens.length; i++) if (tokens[i][2]) { first = i; break; }
    if (first < 0) return null;
    var from = Math.max(0, first - 12), to = Math.min(tokens.length, from + length);
    var start = from === 0 ? 0 : tokens[from][0];
    var end = to === tokens.length ? text.length : tokens[to - 1][1];
    var frag = document.createDocumentFragment();
    if (start > 0) frag.appendChild(document.createTextNode('… '));
    var at = start;
    for (var k = from; k < to; k++) {
      if (!tokens[k][2]) continue;
      frag.appendChild(document.createTextNode(text.slice(at, tokens[k][0])));
      var mark = document.createElement('mark');
      mark.textContent = text.slice(tokens[k][0], tokens[k][1]);
      frag.appendChild(mark);
      at = tokens[k][1];
    }
    frag.appendChild(document.createTextNode(text.slice(at, end)));
    if (end < text.length) frag.appendChild(document.createTextNode(' …'));
    return frag;
  }

  function el(name, cls, text) {
    var e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var KINDS = { t: 'Theme', f: 'Findings', s: 'Site', g: 'Group', ts: 'Theme at a site' };

  function resultItem(d, words, m) {
    var li = el('li', 'result');
    if (d[0] === 'q') {
      // ["q", id, participant, site, group, url, text, original, lang, rtl, context, themes]
      li.className = 'result result-quote';
      var quote = el('blockquote');
      var p = el('p');
      var fromText = snippet(d[6], words, 48);
      var fromOriginal = fromText ? null : snippet(d[7], words, 48);
      var fromContext = fromText || fromOriginal ? null : snippet(d[10], words, 48);
      if (fromOriginal) {
        p.lang = d[8];
        p.dir = d[9] ? 'rtl' : 'ltr';
        p.appendChild(fromOriginal);
      } else {
        p.appendChild(fromText || fromContext || document.createTextNode(d[6].slice(0, 300)));
      }
      if (fromContext) p.className = 'result-context';
      quote.appendChild(p);
      li.appendChild(quote);
      var meta = el('p', 'result-meta');
      var link = el('a', null, d[2]);
      link.href = siteRoot + d[5];
      meta.appendChild(link);
      var site = m.sites[d[3]], group = m.groups[d[4]];
      meta.appendChild(document.createTextNode(', ' + site[1] + ', ' + group[1]));
      var themes = d[11].map(function (t) { return m.themes[t][1]; }).join(', ');
      if (themes) meta.appendChild(document.createTextNode(' · ' + themes));
      li.appendChild(meta);
    } else {
      // [kind, title, url, summary, text]
      li.className = 'result result-page';
      li.appendChild(el('p', 'result-kind', KINDS[d[0]] || ''));
      var h = el('p', 'result-title');
      var a = el('a', null, d[1]);
      a.href = siteRoot + d[2];
      h.appendChild(a);
      li.appendChild(h);
      var snip = snippet(d[4], words, 36) || snippet(d[3], words, 36);
      var body = el('p', 'result-snippet');
      if (snip) body.appendChild(snip); else if (d[3]) body.textContent = d[3];
      if (body.childNodes.length) li.appendChild(body);
    }
    return li;
  }

  // ---- The page -------------------------------------------------------------
  var form = document.getElementById('search-form');
  if (!form) return;
  var input = document.getElementById('search-q');
  var status = document.getElementById('search-status');
  var list = document.getElementById('search-results');
  var more = document.getElementById('search-more');
  var selects = Array.prototype.slice.call(form.querySelectorAll('select[name]'));
  var run = 0, hits = [], shown = 0, current = null;

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get('q') || '';
    selects.forEach(function (s) {
      var want = params.get(s.name);
      var known = want && Array.prototype.some.call(s.options, function (o) { return o.value === want; });
      s.value = known ? want : '';
    });
    var header = document.getElementById('site-search-q');
    if (header) header.value = input.value;
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set('q', input.value.trim());
    selects.forEach(function (s) { if (s.value) params.set(s.name, s.value); });
    var query = params.toString();
    try {
      window.history.replaceState(null, '', window.location.pathname + (query ? '?' + query : ''));
    } catch (e) {
      // Pages opened from disk may not change their URL in some browsers.
    }
  }

  function describe(count, q, m) {
    var where = [];
    selects.forEach(function (s) {
      if (s.value) where.push(s.options[s.selectedIndex].textContent.replace(/^(– )+/, ''));
    });
    var text = (count === 0 ? 'No results' : count === 1 ? '1 result' : count + ' results') +
      ' for “' + q + '”';
    if (where.length) text += ' in ' + where.join(', ');
    return text + '.';
  }

  function showMore(m, words, id) {
    var next = hits.slice(shown, shown + PAGE);
    return Promise.all(next.map(function (n) { return doc(n, m); })).then(function (docs) {
      if (id !== run) return;
      docs.forEach(function (d) { list.appendChild(resultItem(d, words, m)); });
      shown += docs.length;
      more.hidden = shown >= hits.length;
    });
  }

  function go() {
    var id = ++run;
    var q = input.value.trim();
    var words = queryWords(q);
    list.textContent = '';
    more.hidden = true;
    hits = []; shown = 0;
    if (!words.length) {
      status.textContent = q ? 'Type a word with letters or numbers.' : '';
      return;
    }
    status.textContent = 'Searching…';
    meta().then(function (m) {
      if (!m.splitSet) {
        m.splitSet = {}; m.keySet = {};
        m.split.forEach(function (k) { m.splitSet[k] = true; });
        m.keys.forEach(function (k) { m.keySet[k] = true; });
      }
      var narrow = {};
      selects.forEach(function (s) {
        if (!s.value) return;
        var table = s.name === 'site' ? m.sites : s.name === 'group' ? m.groups : m.themes;
        var idx = table.findIndex(function (row) { return row[0] === s.value; });
        if (idx >= 0) narrow[s.name] = idx;
      });
      current = words;
      return search(words, narrow, m).then(function (found) {
        if (id !== run) return;
        hits = found;
        return showMore(m, words, id).then(function () {
          if (id === run) status.textContent = describe(hits.length, q, m);
        });
      });
    }).catch(function (e) {
      if (id === run) status.textContent = 'Search failed: ' + e.message;
    });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    writeUrl();
    go();
  });
  selects.forEach(function (s) {
    s.addEventListener('change', function () { writeUrl(); go(); });
  });
  more.addEventListener('click', function () {
    var before = shown;
    meta().then(function (m) {
      return showMore(m, current, run);
    }).then(function () {
      // Move focus to the first new result so keyboard users continue from there.
      var item = list.children[before];
      var link = item && item.querySelector('a');
      if (link) link.focus();
    });
  });
  readUrl();
  if (input.value.trim()) go();
})();
