// Code included from inside an `impl` block keeps the file's indentation
// (mdBook's anchors do not strip it). This removes the common leading
// spaces of every code block once the page is highlighted, working on the
// text nodes so the highlighting stays.
(function dedentCodeBlocks() {
    document.querySelectorAll("pre code").forEach(function (code) {
        var indents = code.textContent.split("\n")
            .filter(function (line) { return line.trim() !== ""; })
            .map(function (line) { return line.match(/^ */)[0].length; });
        var cut = Math.min.apply(null, indents);
        if (!isFinite(cut) || cut === 0) {
            return;
        }
        var atLineStart = true;
        var toCut = cut;
        var walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
        for (var node = walker.nextNode(); node; node = walker.nextNode()) {
            var out = "";
            for (var i = 0; i < node.nodeValue.length; i++) {
                var ch = node.nodeValue[i];
                if (atLineStart && toCut > 0 && ch === " ") {
                    toCut--;
                    continue;
                }
                atLineStart = ch === "\n";
                if (atLineStart) {
                    toCut = cut;
                }
                out += ch;
            }
            node.nodeValue = out;
        }
    });
})();
