/* thematic default site theme: quote filters and copy-link buttons.
   Everything here is an enhancement: without JavaScript every quote shows, and the
   theme-by-site pages answer the same questions. No dependencies, no requests. */
(function () {
  'use strict';

  var announcer = document.getElementById('thematic-announce');
  function announce(text) {
    if (!announcer) return;
    // Clearing first makes a repeated message heard again.
    announcer.textContent = '';
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  // ---- Quote filter -------------------------------------------------------
  function setUpFilter(form, list) {
    var selects = Array.prototype.slice.call(form.querySelectorAll('select[name]'));
    var quotes = Array.prototype.slice.call(list.querySelectorAll('figure.quote'));
    var blocks = Array.prototype.slice.call(list.querySelectorAll('.site-block, .quote-section'));
    var status = document.getElementById('filter-status');
    var empty = list.querySelector('.filter-empty');
    var total = distinct(quotes);
    // A list split into pages: this page holds some of its quotes; the whole
    // list's facets are in a script loaded when a filter is first chosen.
    var pages = list.hasAttribute('data-list-index') ? pagedList(list, status) : null;

    function distinct(items) {
      var seen = Object.create(null), n = 0;
      items.forEach(function (q) {
        var id = q.getAttribute('data-quote-id');
        if (!seen[id]) { seen[id] = true; n++; }
      });
      return n;
    }

    function chosen() {
      var c = {};
      selects.forEach(function (s) { if (s.value) c[s.name] = s.value; });
      return c;
    }

    function matches(q, c) {
      if (c.site && q.getAttribute('data-site') !== c.site) return false;
      if (c.group && q.getAttribute('data-group') !== c.group) return false;
      if (c.theme && (' ' + q.getAttribute('data-themes') + ' ').indexOf(' ' + c.theme + ' ') < 0) return false;
      return true;
    }

    function apply(updateUrl) {
      var c = chosen();
      var visible = [];
      quotes.forEach(function (q) {
        var show = matches(q, c);
        q.hidden = !show;
        if (show) visible.push(q);
      });
      // Inner blocks first: a section is empty when all its blocks and quotes are.
      blocks.slice().reverse().forEach(function (b) {
        b.hidden = !b.querySelector('figure.quote:not([hidden])');
      });
      var shown = distinct(visible);
      var filtered = Object.keys(c).length > 0;
      if (pages) {
        status.textContent = filtered
          ? 'Showing ' + shown + ' of ' + plural(total, 'quote') + ' on this page'
          : pages.unfiltered;
      } else {
        status.textContent = filtered
          ? 'Showing ' + shown + ' of ' + plural(total, 'quote')
          : 'Showing all ' + plural(total, 'quote');
      }
      if (empty) empty.hidden = shown > 0;
      if (updateUrl) writeUrl(c);
      if (pages) pages.update(c, query(c));
    }

    function query(c) {
      var params = new URLSearchParams();
      selects.forEach(function (s) { if (c[s.name]) params.set(s.name, c[s.name]); });
      var q = params.toString();
      return q ? '?' + q : '';
    }

    function writeUrl(c) {
      var params = new URLSearchParams(window.location.search);
      selects.forEach(function (s) {
        if (c[s.name]) params.set(s.name, c[s.name]); else params.delete(s.name);
      });
      var query = params.toString();
      var url = window.location.pathname + (query ? '?' + query : '') + window.location.hash;
      try {
        window.history.replaceState(window.history.state, '', url);
      } catch (e) {
        // Some browsers refuse to change the URL of a page opened from disk; the
        // filter still works, it just cannot be shared by its URL there.
      }
    }

    function readUrl() {
      var params = new URLSearchParams(window.location.search);
      selects.forEach(function (s) {
        var want = params.get(s.name);
        var known = want && Array.prototype.some.call(s.options, function (o) { return o.value === want; });
        s.value = known ? want : '';
      });
    }

    form.addEventListener('change', function () { apply(true); });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    form.addEventListener('reset', function () {
      // The reset happens after this event: apply once it has.
      window.setTimeout(function () { apply(true); }, 0);
    });
    var clear = list.querySelector('.filter-clear');
    if (clear) {
      clear.addEventListener('click', function () {
        form.reset();
        (selects[0] || form).focus();
      });
    }
    readUrl();
    apply(false);
    form.hidden = false;
  }

  // ---- Filtering across the pages of a list --------------------------------
  function pagedList(list, status) {
    var note = document.getElementById('filter-pages');
    var links = Array.prototype.slice.call(document.querySelectorAll('a.page-link'));
    links.forEach(function (a) { a.setAttribute('data-href', a.getAttribute('href')); });
    var base = list.getAttribute('data-list-base');
    var current = Number(list.getAttribute('data-page'));
    var size = Number(list.getAttribute('data-page-size'));
    var data = null, loading = false, failed = false, wanted = null;

    function pageUrl(n, q) {
      return base + (n === 1 ? '' : 'page/' + n + '/') + 'index.html' + q;
    }

    function load() {
      if (loading) return;
      loading = true;
      window.thematicList = function (d) { data = d; if (wanted) show(wanted.c, wanted.q); };
      var script = document.createElement('script');
      script.src = list.getAttribute('data-list-index');
      script.onerror = function () { failed = true; if (wanted) show(wanted.c, wanted.q); };
      document.head.appendChild(script);
    }

    function matcher(c) {
      var site = c.site ? data.sites.indexOf(c.site) : -1;
      var group = c.group ? data.groups.indexOf(c.group) : -1;
      var theme = c.theme ? data.themes.indexOf(c.theme) : -1;
      return function (q) {
        if (c.site && q[0] !== site) return false;
        if (c.group && q[1] !== group) return false;
        if (c.theme && q.indexOf(theme, 2) < 0) return false;
        return true;
      };
    }

    function show(c, q) {
      while (note.firstChild) note.removeChild(note.firstChild);
      if (!Object.keys(c).length) { note.hidden = true; return; }
      note.hidden = false;
      if (failed) {
        note.textContent = 'Quotes on the other pages of this list could not be counted.';
        return;
      }
      if (!data) { note.textContent = 'Counting matching quotes on the other pages\u2026'; return; }
      var match = matcher(c), perPage = [], all = 0;
      data.quotes.forEach(function (quote, i) {
        if (!match(quote)) return;
        var n = Math.floor(i / size) + 1;
        perPage[n] = (perPage[n] || 0) + 1;
        all++;
      });
      if (!all) { note.textContent = 'No quote in the whole list of ' + plural(data.quotes.length, 'quote') + ' matches.'; return; }
      note.appendChild(document.createTextNode(plural(all, 'quote') + ' of ' + data.quotes.length + ' in the whole list ' + (all === 1 ? 'matches' : 'match') + ', on '));
      var shown = 0, more = 0;
      perPage.forEach(function (count, n) {
        if (count === undefined) return;
        if (shown >= 12) { more++; return; }
        if (shown > 0) note.appendChild(document.createTextNode(', '));
        var label = 'page ' + n + ' (' + count + ')';
        if (n === current) {
          var here = document.createElement('strong');
          here.textContent = label + ', this page';
          note.appendChild(here);
        } else {
          var a = document.createElement('a');
          a.href = pageUrl(n, q);
          a.textContent = label;
          note.appendChild(a);
        }
        shown++;
      });
      note.appendChild(document.createTextNode(more ? ' and ' + plural(more, 'more page') + '.' : '.'));
    }

    return {
      unfiltered: status.textContent,
      update: function (c, q) {
        links.forEach(function (a) { a.setAttribute('href', a.getAttribute('data-href') + q); });
        wanted = { c: c, q: q };
        if (Object.keys(c).length && !data && !failed) load();
        show(c, q);
      }
    };
  }

  // ---- Copy link ----------------------------------------------------------
  function quoteUrl(figure) {
    var link = figure.querySelector('a.permalink');
    var href = link ? link.getAttribute('href') : '#' + figure.id;
    if (href.charAt(0) === '#') {
      return window.location.href.split('#')[0] + href;
    }
    return new URL(href, window.location.href).href;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }

  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }

  function addCopyButtons() {
    var figures = document.querySelectorAll('figure.quote');
    Array.prototype.forEach.call(figures, function (figure) {
      var caption = figure.querySelector('figcaption');
      if (!caption || caption.querySelector('.copy-link')) return;
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'copy-link';
      button.textContent = 'Copy link';
      button.setAttribute('aria-label', 'Copy link to quote ' + figure.getAttribute('data-quote-id'));
      caption.appendChild(document.createTextNode(' '));
      caption.appendChild(button);
    });
    document.addEventListener('click', function (e) {
      var button = e.target.closest ? e.target.closest('button.copy-link') : null;
      if (!button) return;
      var url = quoteUrl(button.closest('figure.quote'));
      copyText(url).then(function () {
        announce('Link copied');
        button.classList.add('copied');
        button.textContent = 'Copied';
        window.setTimeout(function () {
          button.textContent = 'Copy link';
          button.classList.remove('copied');
        }, 2000);
      }, function () {
        announce('Could not copy. The link is: ' + url);
      });
    });
  }

  // ---- Copy a block of text (the citation) ---------------------------------
  function setUpCopyText() {
    var buttons = document.querySelectorAll('button.copy-text[data-copy]');
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) return;
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener('click', function () {
        copyText(source.textContent.trim()).then(function () {
          announce('Copied');
          button.textContent = 'Copied';
          window.setTimeout(function () { button.textContent = label; }, 2000);
        }, function () {
          announce('Could not copy: select the text and copy it by hand.');
        });
      });
    });
  }

  var form = document.getElementById('quote-filter');
  var list = document.getElementById('quote-list');
  if (form && list) setUpFilter(form, list);
  addCopyButtons();
  setUpCopyText();
})();
