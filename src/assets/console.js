// The API console (/docs/try): Swagger UI, vendored from npm at build time (site/),
// on this service's own /openapi.json. Requests go to this origin; "Authorize" takes
// the ADMIN_TOKEN or an API key for the calls that need one (docs/teams.md).
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  // Deep links put an anchor inside each operation's toggle button, a control within a
  // control that screen readers cannot reach (axe-core: nested-interactive).
  deepLinking: false,
  tryItOutEnabled: true,
  // The default puts a badge from validator.swagger.io on the page: nothing leaves
  // this origin (and the CSP would refuse it anyway).
  validatorUrl: null,
  // Its highlighter colours each token with a style attribute, several below 4.5:1 on
  // its dark background; plain text reads better.
  syntaxHighlight: false,
});

// Two gaps of Swagger UI's markup in an opened operation, which axe-core finds: an
// example that scrolls but cannot take the keyboard's focus, and a parameter's select
// that names nothing. Filled in as it draws.
new MutationObserver(() => {
  for (const pre of document.querySelectorAll("#swagger-ui pre:not([tabindex])")) pre.tabIndex = 0;
  for (const select of document.querySelectorAll("#swagger-ui tr[data-param-name] select:not([aria-label])")) {
    select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
  }
}).observe(document.getElementById("swagger-ui"), { childList: true, subtree: true });
