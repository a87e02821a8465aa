// The /api/docs page: Swagger UI (vendored) over the plaza's OpenAPI document. A file of its own,
// not an inline script, so the page runs under the same Content-Security-Policy as every other.
(() => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // no badge from the online validator: the page asks nothing of other sites
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
