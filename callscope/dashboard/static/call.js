// The call page: the audio follows the transcript. Clicking a turn (or a band of the timeline, or a time
// button) seeks there; while it plays, the turn being said is highlighted. Only reads data-*
// attributes and toggles classes: no call text is ever written as HTML.
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var turns = Array.prototype.slice.call(document.querySelectorAll("#turns .turn"));
  var starts = turns.map(function (turn) { return parseFloat(turn.dataset.start); });
  var current = -1;

  function points(index, on) {
    document.querySelectorAll('#timeline .band[data-turn="' + index + '"]').forEach(function (band) {
      band.classList.toggle("current", on);
    });
  }

  function keepVisible(element) {
    var box = element.getBoundingClientRect();
    if (box.top < 90 || box.bottom > window.innerHeight) {
      element.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  function highlight(index, scroll) {
    if (index === current) { return; }
    if (current >= 0 && turns[current]) {
      turns[current].classList.remove("current");
      turns[current].removeAttribute("aria-current");
      points(current, false);
    }
    current = index;
    if (index >= 0 && turns[index]) {
      turns[index].classList.add("current");
      turns[index].setAttribute("aria-current", "true");
      points(index, true);
      if (scroll) { keepVisible(turns[index]); }
    }
  }

  // The last turn started by time t (segments are sorted by start time).
  function turnAt(t) {
    var found = -1;
    for (var i = 0; i < starts.length; i++) {
      if (starts[i] <= t + 0.05) { found = i; } else { break; }
    }
    return found;
  }

  function movePlayheads(t) {
    document.querySelectorAll("svg[data-duration]").forEach(function (svg) {
      var left = parseFloat(svg.dataset.left), right = parseFloat(svg.dataset.right);
      var duration = parseFloat(svg.dataset.duration) || 1;
      var x = left + Math.min(Math.max(t / duration, 0), 1) * (right - left);
      var line = svg.querySelector(".playhead");
      if (line) { line.setAttribute("x1", x); line.setAttribute("x2", x); }
      svg.classList.add("playing");
    });
  }

  function seek(seconds, index) {
    if (!isFinite(seconds)) { return; }
    highlight(index >= 0 ? index : turnAt(seconds), false);
    movePlayheads(seconds);
    if (!audio) { return; }
    audio.currentTime = seconds;
    if (audio.paused) {
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    }
  }

  turns.forEach(function (turn, index) {
    turn.addEventListener("click", function () {
      if (String(window.getSelection ? window.getSelection() : "").length) { return; } // selecting text
      seek(starts[index], index);
    });
    turn.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(starts[index], index); }
    });
  });

  document.querySelectorAll("[data-seek]").forEach(function (element) {
    element.addEventListener("click", function (event) {
      event.stopPropagation();
      var turn = element.dataset.turn === undefined || element.dataset.turn === "" ? -1 : parseInt(element.dataset.turn, 10);
      seek(parseFloat(element.dataset.seek), turn);
    });
  });

  if (audio) {
    ["timeupdate", "seeked"].forEach(function (name) {
      audio.addEventListener(name, function () {
        highlight(turnAt(audio.currentTime), !audio.paused);
        movePlayheads(audio.currentTime);
      });
    });
  }
})();

// The word being played, the timeline's click, the transcript's search and the mark toggles.
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var words = Array.prototype.slice.call(document.querySelectorAll("#turns .w[data-start]"));
  var wordStarts = words.map(function (word) { return parseFloat(word.dataset.start); });
  var playing = null;

  function wordAt(t) {
    var low = 0, high = wordStarts.length - 1, found = -1;
    while (low <= high) {  // the last word started by t
      var middle = (low + high) >> 1;
      if (wordStarts[middle] <= t) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    if (found < 0) { return null; }
    var word = words[found];
    return t <= parseFloat(word.dataset.end) + 0.25 ? word : null;
  }

  if (audio && words.length) {
    audio.addEventListener("timeupdate", function () {
      var word = audio.paused ? null : wordAt(audio.currentTime);
      if (word === playing) { return; }
      if (playing) { playing.classList.remove("playing"); }
      playing = word;
      if (word) { word.classList.add("playing"); }
    });
  }

  // A click on the timeline outside a band plays from the time under the pointer.
  var timeline = document.getElementById("timeline");
  if (timeline) {
    timeline.addEventListener("click", function (event) {
      if (event.target.dataset && event.target.dataset.seek !== undefined) { return; }  // a band seeks itself
      var box = timeline.getBoundingClientRect();
      var scale = timeline.viewBox.baseVal.width / box.width;
      var x = (event.clientX - box.left) * scale;
      var left = parseFloat(timeline.dataset.left), right = parseFloat(timeline.dataset.right);
      var seconds = (x - left) / (right - left) * parseFloat(timeline.dataset.duration);
      if (seconds < 0 || !audio) { return; }
      audio.currentTime = seconds;
      var started = audio.play();
      if (started && started.catch) { started.catch(function () {}); }
    });
  }

  // Search: matches are marked in the text (as text nodes, never HTML), turns without one are dimmed.
  var search = document.getElementById("transcript-search");
  var count = document.getElementById("search-count");
  var texts = Array.prototype.slice.call(document.querySelectorAll("#turns .turn .text"));

  function clearHits() {
    document.querySelectorAll("#turns mark.hit").forEach(function (hit) {
      var parent = hit.parentNode;
      parent.replaceChild(document.createTextNode(hit.textContent), hit);
      parent.normalize();
    });
    document.querySelectorAll("#turns .turn.no-hit").forEach(function (turn) { turn.classList.remove("no-hit"); });
  }

  // Matches are found in the turn's whole text (words and marks are separate elements), then each
  // text node wraps the part of a match it holds.
  function markHits(element, needle) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    var nodes = [], offsets = [], text = "";
    while (walker.nextNode()) {
      nodes.push(walker.currentNode);
      offsets.push(text.length);
      text += walker.currentNode.nodeValue;
    }
    var lowered = text.toLowerCase(), matches = [], at = lowered.indexOf(needle);
    while (at >= 0) { matches.push([at, at + needle.length]); at = lowered.indexOf(needle, at + needle.length); }
    nodes.forEach(function (node, index) {
      var begin = offsets[index], end = begin + node.nodeValue.length, value = node.nodeValue;
      var inside = matches.filter(function (match) { return match[0] < end && match[1] > begin; });
      if (!inside.length) { return; }
      var pieces = document.createDocumentFragment(), from = 0;
      inside.forEach(function (match) {
        var a = Math.max(match[0] - begin, 0), b = Math.min(match[1] - begin, value.length);
        pieces.appendChild(document.createTextNode(value.slice(from, a)));
        var hit = document.createElement("mark");
        hit.className = "hit";
        hit.textContent = value.slice(a, b);
        pieces.appendChild(hit);
        from = b;
      });
      pieces.appendChild(document.createTextNode(value.slice(from)));
      node.parentNode.replaceChild(pieces, node);
    });
    return matches.length;
  }

  if (search) {
    search.addEventListener("input", function () {
      clearHits();
      var needle = search.value.trim().toLowerCase();
      if (!needle) { count.textContent = ""; return; }
      var total = 0, first = null;
      texts.forEach(function (text) {
        var found = markHits(text, needle);
        var turn = text.closest(".turn");
        turn.classList.toggle("no-hit", found === 0);
        if (found && !first) { first = turn; }
        total += found;
      });
      count.textContent = total === 1 ? "1 match" : total + " matches";
      if (first) { first.scrollIntoView({ block: "center" }); }
    });
  }

  document.querySelectorAll("#mark-toggles input[data-mark]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("#turns mark.m-" + box.dataset.mark).forEach(function (mark) {
        mark.classList.toggle("on", box.checked);
      });
    });
  });
})();

// Ask about this call: the question goes to the dashboard's API, the answer is shown as text.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form) { return; }
  var box = document.getElementById("ask-answer");
  var button = form.querySelector("button");

  function show(text, failed) {
    box.hidden = false;
    box.classList.toggle("failed", failed);
    box.textContent = text;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = form.elements.question.value.trim();
    if (!question) { return; }
    button.disabled = true;
    show("Asking…", false);
    fetch(form.dataset.url, {
      method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ question: question }),
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (reply) {
      if (!reply.ok) { show(typeof reply.body.detail === "string" ? reply.body.detail : "The question failed.", true); return; }
      var text = reply.body.answer;
      if (reply.body.read_until !== null) { text += "\n(The model read the call up to " + Math.round(reply.body.read_until) + " s: the rest did not fit.)"; }
      show(text, false);
    }).catch(function () {
      show("The dashboard could not be reached.", true);
    }).finally(function () { button.disabled = false; });
  });
})();
