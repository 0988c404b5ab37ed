using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class HtmlTextTests
{
    [TestCase("<p>Hello &amp; welcome</p><p>Second<br>line</p>", "Hello & welcome\n\nSecond\nline")]
    [TestCase("<p>Use <code>grep -r</code> <em>now</em>, it&#39;s &lt;fast&gt;.</p>", "Use `grep -r` now, it's <fast>.")]
    [TestCase("<ul><li>malt</li><li>hops</li></ul>", "- malt\n- hops")]
    [TestCase("<p>Steps:</p><ol>\n<li>mash</li>\n<li>boil</li>\n</ol><p>Done.</p>", "Steps:\n\n1. mash\n2. boil\n\nDone.")]
    [TestCase("<pre><code>if (a &lt; b)\n    swap();\n</code></pre>", "```\nif (a < b)\n    swap();\n```")]
    [TestCase("<p>Lots   of\n\n  spaces</p>", "Lots of spaces")]
    [TestCase("<blockquote><p>Quoted.</p></blockquote><p>Reply <a href=\"http://x\">link</a>.</p>", "Quoted.\n\nReply link.")]
    [TestCase("<p>A<!-- hidden --> B <img src=\"x.png\" alt=\"a pint\"></p>", "A B a pint")]
    [TestCase("Plain text &mdash; no tags", "Plain text \u2014 no tags")]
    [TestCase("<h2>Title</h2>Text<hr>More", "Title\n\nText\n\n----\n\nMore")]
    public void ConvertsHtmlToPlainText(string html, string expected) =>
        Assert.That(HtmlText.ToPlainText(html), Is.EqualTo(expected));
}
