// Marks what Chromium actually drew, for the browser test (tests/book_test.sh), which reads
// the rendered DOM: each diagram gets data-rendered="<width>x<height>" (or "no"), and the body
// data-too-wide lists elements of the page's text column that are wider than the column.
window.addEventListener('load', function () {
  document.querySelectorAll('div.mscgraph img, div.image img, object').forEach(function (image) {
    var drawn = image.complete === undefined || (image.complete && image.naturalWidth > 0);
    image.setAttribute('data-rendered', drawn ? image.getBoundingClientRect().width + 'x' +
                                                image.getBoundingClientRect().height : 'no');
  });
  // How tall the whole page is (with the sidebar layout the content scrolls inside
  // #doc-content): the test's full-page screenshots use a window this tall.
  var content = document.getElementById('doc-content');
  document.body.setAttribute('data-page-height', Math.max(document.documentElement.scrollHeight,
                                                          content ? content.scrollHeight : 0));
  var column = document.querySelector('div.contents');
  if (!column) return;
  var limit = column.getBoundingClientRect().right + 1, wide = [];
  column.querySelectorAll('pre, table, div.fragment, div.mscgraph, p, li').forEach(function (element) {
    if (element.closest('details:not([open])')) return;  // folded: drawn when opened
    if (element.getBoundingClientRect().right > limit || element.scrollWidth > element.clientWidth + 1)
      wide.push(element.tagName.toLowerCase() + '.' + element.className + ': ' +
                (element.textContent || '').trim().slice(0, 60));
  });
  document.body.setAttribute('data-too-wide', wide.join(' | '));
});
