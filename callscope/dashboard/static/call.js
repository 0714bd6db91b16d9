// The call page: the audio follows the transcript. Clicking a turn (or a chart point, or a time
// button) seeks there; while it plays, the turn being said is highlighted. Only reads data-*
// attributes and toggles classes: no call text is ever written as HTML.
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var turns = Array.prototype.slice.call(document.querySelectorAll("#turns .turn"));
  var starts = turns.map(function (turn) { return parseFloat(turn.dataset.start); });
  var current = -1;

  function points(index, on) {
    document.querySelectorAll('.turn-point[data-turn="' + index + '"]').forEach(function (point) {
      point.classList.toggle("current", on);
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
