// A small, offline explorer of /api/openapi.json: each operation with its parameters as inputs and
// a Send button. Everything from the document or an answer is written with textContent.
(function () {
  "use strict";
  var root = document.getElementById("operations");

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function operation(path, method, spec) {
    var box = element("details", "op card");
    var summary = element("summary");
    summary.appendChild(element("span", "method", method.toUpperCase()));
    summary.appendChild(document.createTextNode(" " + path + "  "));
    summary.appendChild(element("span", "muted", spec.summary || ""));
    box.appendChild(summary);
    if (spec.description) { box.appendChild(element("p", "muted", spec.description)); }
    var form = element("form", "params");
    var inputs = [];
    (spec.parameters || []).forEach(function (parameter) {
      var schema = parameter.schema || {};
      var choices = schema.enum || ((schema.anyOf || []).filter(function (s) { return s.enum; })[0] || {}).enum;
      var input;
      if (choices) {
        input = element("select");
        input.appendChild(element("option", "", ""));
        choices.forEach(function (choice) { input.appendChild(element("option", "", String(choice))); });
      } else {
        input = element("input");
        if (schema.default !== undefined && schema.default !== null && schema.default !== "") {
          input.placeholder = String(schema.default);
        }
      }
      input.name = parameter.name;
      var label = element("label", "", parameter.name + (parameter.required ? " *" : "") + " (" + parameter.in + ")");
      form.appendChild(label);
      form.appendChild(input);
      if (parameter.description) { form.appendChild(element("span", "help", parameter.description)); }
      inputs.push({ spec: parameter, input: input });
    });
    var send = element("button", "send", "Send");
    send.type = "submit";
    form.appendChild(send);
    var url = element("p", "muted");
    var output = element("pre");
    output.hidden = true;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var target = path, query = new URLSearchParams();
      inputs.forEach(function (item) {
        var value = item.input.value;
        if (item.spec.in === "path") {
          target = target.replace("{" + item.spec.name + "}", encodeURIComponent(value));
        } else if (value !== "") {
          query.append(item.spec.name, value);
        }
      });
      var href = target + (String(query) ? "?" + query : "");
      url.textContent = method.toUpperCase() + " " + href;
      output.hidden = false;
      output.textContent = "…";
      fetch(href, { method: method.toUpperCase() }).then(function (response) {
        var type = response.headers.get("content-type") || "";
        var head = response.status + " " + response.statusText + "  (" + type + ")\n\n";
        if (type.indexOf("json") >= 0) {
          return response.json().then(function (body) { output.textContent = head + JSON.stringify(body, null, 2); });
        }
        return response.blob().then(function (body) { output.textContent = head + body.size + " bytes"; });
      }).catch(function (error) { output.textContent = String(error); });
    });
    box.appendChild(form);
    box.appendChild(url);
    box.appendChild(output);
    return box;
  }

  fetch("/api/openapi.json").then(function (response) { return response.json(); }).then(function (doc) {
    root.textContent = "";
    var info = element("p", "muted", (doc.info.title || "") + " " + (doc.info.version || "") + " · OpenAPI " + doc.openapi);
    root.appendChild(info);
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        if (method === "head") { return; }
        root.appendChild(operation(path, method, doc.paths[path][method]));
      });
    });
  }).catch(function (error) { root.textContent = "Cannot read the OpenAPI document: " + error; });
})();
