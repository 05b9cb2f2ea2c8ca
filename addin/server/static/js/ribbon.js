// The S&OP tab of the Office.js add-in (templates/manifest.xml): every button runs the xlwings Server
// script of the same ribbon action (addin/officejs.py: sop_<tag>), exactly like the classic add-in's
// VBA dispatcher runs addin.ribbon.run(<tag>). Replaces xlwings Server's sample ribbon.js.
const SOP_BUTTONS = ["refresh", "recompute", "collect", "publish", "scenario", "freshness", "pack"];

for (const tag of SOP_BUTTONS) {
  Office.actions.associate(`sop-${tag}`, async (event) => {
    const auth =
      typeof globalThis.getAuth === "function"
        ? await globalThis.getAuth()
        : { token: "", provider: "" };
    try {
      await xlwings.runPython({
        auth: auth.token,
        scriptName: `sop_${tag}`,
        headers: { "Auth-Provider": auth.provider },
      });
    } finally {
      event.completed();
    }
  });
}
