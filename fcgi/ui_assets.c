/* The pages' one stylesheet and the few lines of script behind the copy
 * buttons: built into the responder, served at /ui/style.css and
 * /ui/copy.js (the pages' Content-Security-Policy allows only these). */
#include "config.h"

#include <string.h>

#include "ui.h"

static const char style_css[] =
	":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;"
	"--accent:#0b57d0;--danger:#b3261e;--ok:#1a7f37;--warn:#9a6700}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
	"a{color:var(--accent)}\n"
	":focus-visible{outline:3px solid var(--accent);outline-offset:2px}\n"
	".skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;"
	"background:var(--bg);padding:.5rem;z-index:2}\n"
	".top{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;"
	"padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--soft)}\n"
	".brand{font-weight:700;color:var(--fg);text-decoration:none}\n"
	".top nav{display:flex;gap:1rem}.top nav a{text-decoration:none;padding:.25rem 0}\n"
	".top nav a[aria-current]{font-weight:600;border-bottom:2px solid var(--accent)}\n"
	".who{margin-left:auto;display:flex;gap:.75rem;align-items:center;"
	"color:var(--muted);font-size:.9rem}\n"
	".who form{margin:0}\n"
	"main{max-width:72rem;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .75rem}\n"
	".bar{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;"
	"justify-content:space-between}\n"
	".table{overflow-x:auto}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;vertical-align:top;padding:.5rem;border-bottom:1px solid var(--line)}\n"
	"th{font-size:.85rem;color:var(--muted);font-weight:600}\n"
	".muted,.hint{color:var(--muted);font-size:.9rem}\n"
	".hint{margin:.25rem 0 0}\n"
	".badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;"
	"border:1px solid var(--line);background:var(--soft);overflow-wrap:anywhere}\n"
	".badge.ok{color:var(--ok);border-color:var(--ok)}\n"
	".badge.warn{color:var(--warn);border-color:var(--warn)}\n"
	".badge.bad{color:var(--danger);border-color:var(--danger)}\n"
	".button,button{display:inline-block;font:inherit;padding:.45rem 1rem;"
	"border-radius:.4rem;border:1px solid var(--accent);background:var(--accent);"
	"color:#fff;text-decoration:none;cursor:pointer}\n"
	".button.secondary,button.secondary{background:var(--bg);color:var(--accent)}\n"
	".button.danger,button.danger{background:var(--danger);border-color:var(--danger)}\n"
	"button.link{background:none;border:0;color:var(--accent);padding:0;"
	"text-decoration:underline}\n"
	"form.stack>div,fieldset>div,.field{margin:0 0 1rem}\n"
	"fieldset{border:1px solid var(--line);border-radius:.4rem;margin:0 0 1rem;padding:.75rem 1rem}\n"
	"legend{font-weight:600;padding:0 .25rem}\n"
	"label{display:block;font-weight:600;margin-bottom:.25rem}\n"
	"label.inline{display:inline;font-weight:400;margin-right:1rem}\n"
	"input[type=text],input[type=url],input[type=password],select,textarea{"
	"font:inherit;width:100%;max-width:40rem;padding:.45rem;border:1px solid #8c959f;"
	"border-radius:.3rem;background:var(--bg);color:var(--fg)}\n"
	"textarea{min-height:6rem}\n"
	"input[readonly]{background:var(--soft);font-family:ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
	"[aria-invalid=true]{border-color:var(--danger);border-width:2px}\n"
	".field-error,.error{color:var(--danger);font-weight:600}\n"
	".field-error{margin:.25rem 0 0}\n"
	".error{border-left:4px solid var(--danger);padding:.5rem .75rem;background:#fdf0ef}\n"
	".notice{border-left:4px solid var(--ok);padding:.5rem .75rem;background:#eef8f0}\n"
	".copy{display:flex;gap:.5rem;max-width:48rem}.copy input{flex:1}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}\n"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
	"details.menu{position:relative;display:inline-block}\n"
	"details.menu summary{cursor:pointer;padding:.2rem .6rem;border:1px solid var(--line);"
	"border-radius:.3rem;list-style:none}\n"
	"details.menu summary::-webkit-details-marker{display:none}\n"
	"details.menu ul{position:absolute;right:0;z-index:1;margin:.25rem 0 0;padding:.25rem 0;"
	"list-style:none;background:var(--bg);border:1px solid var(--line);border-radius:.3rem;"
	"min-width:10rem;box-shadow:0 4px 12px rgba(0,0,0,.12)}\n"
	"details.menu li a{display:block;padding:.4rem .8rem}\n"
	".description p{margin:.25rem 0}\n"
	".empty{border:1px dashed var(--line);border-radius:.4rem;padding:1rem 1.25rem}\n"
	"code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.9em}\n"
	/* On a phone, table rows become cards: each cell under its label. */
	"@media (max-width:40rem){main{padding:.75rem}dl.facts{grid-template-columns:1fr}"
	"dl.facts dt{margin-top:.5rem}.who{margin-left:0}"
	".table table,.table tbody,.table tr,.table td{display:block}"
	".table thead{position:absolute;width:1px;height:1px;overflow:hidden;"
	"clip:rect(0 0 0 0)}"
	".table tr{border-bottom:1px solid var(--line);padding:.5rem 0}"
	".table td{border:0;padding:.15rem 0}.table td:empty{display:none}"
	".table td[data-label]::before{content:attr(data-label);display:block;"
	"font-size:.8rem;color:var(--muted);font-weight:600}"
	"details.menu ul{left:0;right:auto}}\n";

/* Copy buttons are hidden without script; with it, a click copies the
 * value of the element the button names. */
static const char copy_js[] =
	"\"use strict\";\n"
	"document.addEventListener(\"DOMContentLoaded\", function () {\n"
	"  document.querySelectorAll(\"button[data-copy]\").forEach(function (b) {\n"
	"    b.hidden = false;\n"
	"    b.addEventListener(\"click\", function () {\n"
	"      var src = document.getElementById(b.getAttribute(\"data-copy\"));\n"
	"      var said = document.getElementById(b.getAttribute(\"data-copy\") + \"-copied\");\n"
	"      var done = function () { if (said) said.textContent = \"Copied\"; };\n"
	"      var fallback = function () { src.select(); document.execCommand(\"copy\"); done(); };\n"
	"      if (navigator.clipboard && window.isSecureContext)\n"
	"        navigator.clipboard.writeText(src.value).then(done, fallback);\n"
	"      else\n"
	"        fallback();\n"
	"    });\n"
	"  });\n"
	"});\n";

static void
asset(struct sh_route_ctx *ctx, const char *type, const char *text)
{
	sh_buf_puts(&ctx->resp->body, text);
	ctx->resp->content_type = type;
	ctx->resp->status = 200;
}

void
sh_ui_style(struct sh_route_ctx *ctx)
{
	asset(ctx, "text/css; charset=utf-8", style_css);
}

void
sh_ui_script(struct sh_route_ctx *ctx)
{
	asset(ctx, "text/javascript; charset=utf-8", copy_js);
}
