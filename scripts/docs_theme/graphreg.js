// Typeset the page's TeX with the bundled KaTeX (auto-render), then flag the page for the browser test.
document.addEventListener('DOMContentLoaded', function () {
  var article = document.querySelector('.gr-main');
  if (article && window.renderMathInElement) {
    renderMathInElement(article, {
      delimiters: [
        {left: '$$', right: '$$', display: true},
        {left: '\\[', right: '\\]', display: true},
        {left: '\\begin{equation}', right: '\\end{equation}', display: true},
        {left: '\\begin{align}', right: '\\end{align}', display: true},
        {left: '$', right: '$', display: false},
        {left: '\\(', right: '\\)', display: false}
      ],
      ignoredTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code', 'option'],
      throwOnError: false,
      errorCallback: function (msg, err) { console.error('KaTeX: ' + msg, err); }
    });
  }
  document.body.setAttribute('data-math', window.katex ? 'katex' : 'missing');
  var active = document.querySelector('.gr-sidebar a.active');
  if (active && active.scrollIntoView) active.scrollIntoView({block: 'nearest'});
});
