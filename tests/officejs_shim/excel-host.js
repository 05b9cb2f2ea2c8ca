// A stand-in for office.js in a real browser: the Excel host side of the Office.js object model, exactly the
// surface xlwings Server's own JavaScript (xlwings_server/static/js: getBookData, the action callbacks,
// alerts, custom-functions-code.js) and sopxl's ribbon.js touch, over an in-memory workbook.
//
// Served by the browser tests (tests/test_addin_browser.py) in place of the page's office.js. It keeps the
// rules of the real proxy model, so a client that breaks them fails here as it would in Excel:
// - reading a property that was not load()ed and synced throws PropertyNotLoaded;
// - every write and method call is queued and runs at context.sync(), in order; a failing operation
//   rejects the sync and the operations after it never run;
// - Range.values takes a 2-D array of exactly the range's size (or one value for every cell); null leaves
//   a cell unchanged, "" clears it, a leading ' makes text, "=" is a formula, and other strings are read
//   the way Excel (en-US) reads typed entries: numbers, TRUE/FALSE, percentages and dates become values;
// - Table.resize keeps the header row in place, must overlap the old range and no other table;
// - custom functions are called the way Excel calls them: the functions CustomFunctions.associate()
//   registered, with the arguments shaped by the metadata the manifest names (every declared parameter,
//   matrices for "matrix" parameters, null for an omitted optional one) and an invocation object last;
//   matrix results spill from the formula cell; calculate(full) and automatic recalculation re-run them.
//
// Tests drive it as a user and Excel would (type into a cell, enter a formula, press a ribbon button) and
// read what Excel would show through globalThis.__sopxlShim. What this stand-in does not know fails loudly
// instead of being guessed ("not in the Office.js stand-in" errors; #NAME? or #SHIM! in a formula cell), so
// a new kind of call cannot pass untested.
(function () {
  "use strict";

  const CONFIG = globalThis.__SOPXL_SHIM_CONFIG__ || {};
  const SUPPORTED_SETS = {
    // What Excel on the web reports today; xlwings reads notes (1.18), pivots (1.8) and culture (1.12).
    excelapi: "1.19",
    sharedruntime: "1.1",
    customfunctionsruntime: "1.4",
    dialogapi: "1.2",
    ribbonapi: "1.2",
    addincommands: "1.1",
  };

  // -- errors ---------------------------------------------------------------------------------------------
  class RichApiError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "RichApi.Error";
      this.code = code;
      this.debugInfo = { code, message };
    }
  }
  const notInShim = (what) => new RichApiError("NotInShim", `${what} is not in the Office.js stand-in`);

  // -- addresses ------------------------------------------------------------------------------------------
  function columnName(index) {
    let name = "";
    for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
      name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
    }
    return name;
  }
  function columnIndex(letters) {
    let n = 0;
    for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
    return n - 1;
  }
  function quoteSheet(name) {
    return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
  }
  const CELL = /^\$?([A-Za-z]{1,3})\$?(\d+)$/;
  function parseCell(text) {
    const m = CELL.exec(text);
    if (!m) throw new RichApiError("InvalidArgument", `not a cell address: ${text}`);
    return [parseInt(m[2], 10) - 1, columnIndex(m[1])];
  }
  // "Sheet!$A$1:$B$2" -> {sheet: "Sheet" | null, box: [top, left, bottom, right]} (0-based, inclusive)
  function parseAddress(address) {
    let sheet = null;
    let rest = String(address);
    const bang = rest.lastIndexOf("!");
    if (bang >= 0) {
      sheet = rest.slice(0, bang);
      if (sheet.startsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
      rest = rest.slice(bang + 1);
    }
    const parts = rest.split(":");
    if (parts.length > 2) throw new RichApiError("InvalidArgument", `not a range address: ${address}`);
    const [r1, c1] = parseCell(parts[0]);
    const [r2, c2] = parts.length === 2 ? parseCell(parts[1]) : [r1, c1];
    return { sheet, box: [Math.min(r1, r2), Math.min(c1, c2), Math.max(r1, r2), Math.max(c1, c2)] };
  }
  function boxAddress(box) {
    const [t, l, b, r] = box;
    const first = `${columnName(l)}${t + 1}`;
    return t === b && l === r ? first : `${first}:${columnName(r)}${b + 1}`;
  }
  const overlaps = (a, b) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

  // -- what a typed or written entry becomes (Excel, en-US) ---------------------------------------------
  const EXCEL_EPOCH = Date.UTC(1899, 11, 30);
  const serial = (y, mo, d, h = 0, mi = 0, s = 0) => (Date.UTC(y, mo - 1, d, h, mi, s) - EXCEL_EPOCH) / 86400000;
  function entry(value) {
    if (value === null || value === undefined) return undefined; // leave the cell as it is
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new RichApiError("InvalidArgument", `not a cell value: ${value}`);
      return { value };
    }
    if (typeof value === "boolean") return { value };
    if (typeof value !== "string") {
      throw new RichApiError("InvalidArgument", `Range.values cannot hold ${JSON.stringify(value)}`);
    }
    if (value === "") return { value: "" };
    if (value.startsWith("'")) return { value: value.slice(1), text: true };
    if (/^[=+-]/.test(value) && !/^[+-]\s*(\d|\.\d)/.test(value)) {
      if (value.length > 1) return { formula: value };
    }
    const t = value.trim();
    let m;
    if (/^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?([eE][+-]?\d+)?$|^[+-]?\.\d+([eE][+-]?\d+)?$/.test(t)) {
      return { value: parseFloat(t.replace(/,/g, "")) };
    }
    if ((m = /^([+-]?\d+(\.\d+)?)%$/.exec(t))) return { value: parseFloat(m[1]) / 100, numberFormat: "0%" };
    if (/^(true|false)$/i.test(t)) return { value: t.toLowerCase() === "true" };
    if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t))) {
      const time = m[4] !== undefined;
      return {
        value: serial(+m[1], +m[2], +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0)),
        numberFormat: time ? "yyyy-mm-dd h:mm" : "yyyy-mm-dd",
      };
    }
    if ((m = /^(\d{4})-(\d{1,2})$/.exec(t)) && +m[2] >= 1 && +m[2] <= 12) {
      return { value: serial(+m[1], +m[2], 1), numberFormat: "mmm-yy" }; // "2026-11" is November 2026
    }
    if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t))) {
      return { value: serial(+m[3], +m[1], +m[2]), numberFormat: "m/d/yyyy" };
    }
    return { value };
  }

  // -- the workbook -----------------------------------------------------------------------------------
  class SheetModel {
    constructor(spec) {
      this.name = spec.name;
      this.visibility = spec.visibility || "Visible";
      this.showGridlines = spec.show_gridlines !== false;
      this.cells = new Map(); // "r,c" -> {value, numberFormat?, formula?}
      (spec.values || []).forEach((row, r) =>
        row.forEach((value, c) => {
          if (value !== "" && value !== null) this.cells.set(`${r},${c}`, { value });
        }),
      );
      for (const [address, format] of Object.entries(spec.number_formats || {})) {
        const [r, c] = parseCell(address);
        const cell = this.cells.get(`${r},${c}`) || { value: "" };
        cell.numberFormat = format;
        this.cells.set(`${r},${c}`, cell);
      }
      this.tables = [];
    }
    cell(r, c) {
      return this.cells.get(`${r},${c}`) || { value: "" };
    }
    put(r, c, cell) {
      if (cell.value === "" && !cell.formula && !cell.numberFormat) this.cells.delete(`${r},${c}`);
      else this.cells.set(`${r},${c}`, cell);
    }
    usedBox() {
      let box = null;
      for (const [key, cell] of this.cells) {
        if (cell.value === "" && !cell.formula) continue;
        const [r, c] = key.split(",").map(Number);
        box = box ? [Math.min(box[0], r), Math.min(box[1], c), Math.max(box[2], r), Math.max(box[3], c)] : [r, c, r, c];
      }
      return box;
    }
  }

  class TableModel {
    constructor(sheet, spec) {
      this.sheet = sheet;
      this.name = spec.name;
      this.box = parseAddress(spec.range_address).box;
      this.showHeaders = spec.show_headers !== false;
      this.showTotals = Boolean(spec.show_totals);
      this.style = spec.table_style || "TableStyleMedium2";
      this.showFilterButton = spec.show_autofilter !== false;
      this.highlightFirstColumn = Boolean(spec.show_table_style_first_column);
      this.highlightLastColumn = Boolean(spec.show_table_style_last_column);
      this.showBandedRows = spec.show_table_style_row_stripes !== false;
      this.showBandedColumns = Boolean(spec.show_table_style_column_stripes);
    }
    columns() {
      // A table's column names are its header cells (Excel keeps them text and unique).
      const [t, l, , r] = this.box;
      const names = [];
      for (let c = l; c <= r; c++) {
        const header = this.sheet.cell(t, c).value;
        names.push(header === "" ? `Column${c - l + 1}` : String(header));
      }
      return names;
    }
    bodyBox() {
      const [t, l, b, r] = this.box;
      return [this.showHeaders ? t + 1 : t, l, this.showTotals ? b - 1 : b, r];
    }
  }

  const newLog = () => ({
    writes: [],
    resizes: [],
    calculationModes: [],
    calculations: [],
    screenUpdatingSuspensions: 0,
    dialogs: [],
    unknownLoads: [],
  });
  const host = {
    book: null,
    log: newLog(),
    functions: {}, // CustomFunctions.associate
    actions: {}, // Office.actions.associate
    formulas: new Map(), // "sheet|r,c" -> formula record
    pending: new Set(), // in-flight promises (batches, calculations, button presses)
    addin: null, // the manifest and the custom function metadata, fetched on first use
    openDialog: null,
  };

  function loadBook(spec) {
    const book = {
      name: spec.name || "Book1.xlsx",
      sheets: [],
      active: spec.active_sheet_index || 0,
      calculationMode: spec.calculation || "Automatic",
      selection: { sheet: spec.active_sheet_index || 0, box: [0, 0, 0, 0] },
    };
    for (const sheetSpec of spec.sheets || []) {
      const sheet = new SheetModel(sheetSpec);
      for (const tableSpec of sheetSpec.tables || []) sheet.tables.push(new TableModel(sheet, tableSpec));
      book.sheets.push(sheet);
    }
    return book;
  }
  host.book = loadBook(CONFIG.workbook || { sheets: [{ name: "Sheet1" }] });

  function sheetByName(name) {
    return host.book.sheets.find((s) => s.name.toLowerCase() === String(name).toLowerCase()) || null;
  }
  function allTables() {
    return host.book.sheets.flatMap((s) => s.tables);
  }
  function track(promise) {
    host.pending.add(promise);
    const done = () => host.pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  // -- writing cells ------------------------------------------------------------------------------------
  function dropFormula(sheet, r, c) {
    // A formula overwritten or cleared takes its spilled values with it.
    const key = `${sheet.name}|${r},${c}`;
    const record = host.formulas.get(key);
    if (!record) return;
    host.formulas.delete(key);
    const [t, l, b, rr] = record.spill;
    for (let i = t; i <= b; i++) for (let j = l; j <= rr; j++) if (i !== r || j !== c) sheet.put(i, j, { value: "" });
  }
  function writeEntry(sheet, r, c, written) {
    const key = `${sheet.name}|${r},${c}`;
    dropFormula(sheet, r, c);
    const old = sheet.cell(r, c);
    if (written.formula) {
      const record = newFormula(sheet, r, c, written.formula);
      sheet.put(r, c, { value: "", formula: written.formula, numberFormat: old.numberFormat });
      host.formulas.set(key, record);
      return record;
    }
    const cell = { value: written.value }; // the cell keeps its format, unless the entry was read as a date
    const format = written.numberFormat || old.numberFormat;
    if (format) cell.numberFormat = format;
    sheet.put(r, c, cell);
    return null;
  }
  function writeValues(sheet, box, values, source) {
    const rows = box[2] - box[0] + 1;
    const cols = box[3] - box[1] + 1;
    let grid = values;
    if (!Array.isArray(values)) grid = Array.from({ length: rows }, () => Array(cols).fill(values));
    if (grid.length !== rows || grid.some((row) => !Array.isArray(row) || row.length !== cols)) {
      throw new RichApiError(
        "InvalidArgument",
        `The number of rows or columns in the input array doesn't match the size or dimensions of the range ` +
          `(${sheet.name}!${boxAddress(box)} is ${rows}x${cols}).`,
      );
    }
    const entries = grid.map((row) => row.map(entry)); // all or nothing: a bad value writes no cell
    const formulas = [];
    entries.forEach((row, i) =>
      row.forEach((written, j) => {
        if (written === undefined) return;
        const record = writeEntry(sheet, box[0] + i, box[1] + j, written);
        if (record) formulas.push(record);
      }),
    );
    if (source) host.log.writes.push({ sheet: sheet.name, address: boxAddress(box), box, func: source });
    changed(sheet, box);
    for (const record of formulas) schedule(record);
  }
  function clearBox(sheet, box, applyTo) {
    for (let r = box[0]; r <= box[2]; r++) {
      for (let c = box[1]; c <= box[3]; c++) {
        dropFormula(sheet, r, c);
        const cell = sheet.cell(r, c);
        if (applyTo === "Formats") sheet.put(r, c, { ...cell, numberFormat: undefined });
        else if (applyTo === "Contents") sheet.put(r, c, { value: "", numberFormat: cell.numberFormat });
        else sheet.put(r, c, { value: "" });
      }
    }
    host.log.writes.push({ sheet: sheet.name, address: boxAddress(box), box, func: `clear:${applyTo}` });
    changed(sheet, box);
  }

  // -- proxies: load / sync ---------------------------------------------------------------------------
  class RequestContext {
    constructor() {
      this._queue = [];
      this.workbook = new WorkbookProxy(this, host.book, DIRECT);
      this.application = this.workbook.application;
      this.trackedObjects = { add() {}, remove() {} };
    }
    _enqueue(op) {
      this._queue.push(op);
    }
    sync() {
      return track(
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 0)); // a round trip to the host
          const queue = this._queue;
          this._queue = [];
          try {
            for (const op of queue) op(); // a throwing operation ends the batch: the rest never runs
          } finally {
            endOfSync();
          }
        })(),
      );
    }
  }

  function pathsOf(arg) {
    if (arg === undefined) return ["*"];
    if (typeof arg === "string") return arg.split(",").map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(arg)) return arg.flatMap(pathsOf);
    if (arg && typeof arg === "object" && arg.select) return pathsOf(arg.select);
    throw notInShim(`load(${JSON.stringify(arg)})`);
  }

  const BATCH = "batch";
  const DIRECT = "direct";
  const LAZY = "lazy";
  class ClientObject {
    // How an object finds its part of the workbook: a method's result (getRange, getItem...) is found when
    // the batch reaches the call (BATCH); an item of a loaded collection is known (DIRECT); a navigation
    // property (sheet.tables, workbook.application) follows its parent whenever it is used (LAZY).
    constructor(ctx, resolve, mode = BATCH) {
      this._ctx = ctx;
      this._loaded = Object.create(null);
      this._children = Object.create(null);
      if (mode === DIRECT) this._found(resolve);
      else if (mode === LAZY) this._lazy = resolve;
      else ctx._enqueue(() => this._found(resolve()));
    }
    _found(target) {
      this._target = target;
      this._loaded.__null = target === null; // isNullObject is known after the sync, without a load
    }
    get context() {
      return this._ctx;
    }
    _t() {
      if (this._target === undefined && this._lazy) return this._lazy();
      if (this._target === undefined) throw new RichApiError("GeneralException", `${this.constructor.name} used before its batch ran`);
      if (this._target === null) throw new RichApiError("InvalidOperation", `${this.constructor.name} is a null object`);
      return this._target;
    }
    get isNullObject() {
      if (!("__null" in this._loaded)) throw propertyNotLoaded("isNullObject");
      return this._loaded.__null;
    }
    _child(name, make) {
      if (!(name in this._children)) this._children[name] = make();
      return this._children[name];
    }
    _call(fn) {
      this._ctx._enqueue(() => fn(this._t()));
    }
    load(arg) {
      const paths = pathsOf(arg);
      this._ctx._enqueue(() => this._snapshot(paths));
      return this;
    }
    _snapshot(paths) {
      if (this._target === null) return; // a null object loads nothing
      const target = this._t();
      const spec = this.constructor.PROPS || {};
      const nested = Object.create(null);
      for (const path of paths) {
        if (path === "*") {
          for (const name of Object.keys(spec)) this._loaded[name] = copy(spec[name].get(target));
          continue;
        }
        const [head, ...rest] = path.split("/");
        if (rest.length) {
          (nested[head] = nested[head] || []).push(rest.join("/"));
        } else if (head in spec) {
          this._loaded[head] = copy(spec[head].get(target));
        } else if (this.constructor.NAV && head in this.constructor.NAV) {
          (nested[head] = nested[head] || []).push("*");
        } else {
          // Excel answers a load of a name it does not have with nothing (xlwings loads Table
          // "dataBodyRange"); reading it later still throws PropertyNotLoaded. Noted for the tests.
          host.log.unknownLoads.push(`${this.constructor.name}.${head}`);
        }
      }
      for (const [head, rest] of Object.entries(nested)) {
        const child = this[head];
        if (!(child instanceof ClientObject)) throw notInShim(`${this.constructor.name}.load("${head}/...")`);
        child._snapshot(rest);
      }
    }
    toJSON() {
      return { ...this._loaded };
    }
  }
  function propertyNotLoaded(name) {
    return new RichApiError(
      "PropertyNotLoaded",
      `The property '${name}' is not available. Before reading the property's value, call the load method on ` +
        `the containing object and call "context.sync()" on the associated request context.`,
    );
  }
  const copy = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

  function defineProps(cls, props, nav = {}) {
    cls.PROPS = props;
    cls.NAV = nav;
    for (const [name, spec] of Object.entries(props)) {
      Object.defineProperty(cls.prototype, name, {
        get() {
          if (!(name in this._loaded)) throw propertyNotLoaded(name);
          return this._loaded[name];
        },
        set(value) {
          if (!spec.set) throw new RichApiError("InvalidArgument", `${cls.name}.${name} is read-only`);
          this._ctx._enqueue(() => spec.set(this._t(), value));
          this._loaded[name] = value;
        },
      });
    }
    for (const [name, make] of Object.entries(nav)) {
      Object.defineProperty(cls.prototype, name, {
        get() {
          return this._child(name, () => make(this));
        },
      });
    }
  }

  class CollectionProxy extends ClientObject {
    // items(target) -> model objects; wrap(ctx, model) -> item proxy
    get items() {
      if (!("items" in this._loaded)) throw propertyNotLoaded("items");
      return this._loaded.items;
    }
    _snapshot(paths) {
      const models = this.constructor.itemsOf(this._t());
      const itemPaths = [];
      for (const path of paths) {
        if (path === "*" || path === "items") continue;
        if (path.startsWith("items/")) itemPaths.push(path.slice(6));
        else itemPaths.push(path); // a scalar name on a collection loads it on every item
      }
      const items = models.map((model) => this.constructor.wrap(this._ctx, model));
      for (const item of items) item._snapshot(itemPaths.length ? itemPaths : ["*"]);
      this._loaded.items = items;
    }
    getCount() {
      const result = { value: undefined };
      this._ctx._enqueue(() => (result.value = this.constructor.itemsOf(this._t()).length));
      return result;
    }
  }

  class EmptyCollectionProxy extends CollectionProxy {
    static itemsOf() {
      return [];
    }
    static wrap() {
      throw notInShim("an item of an empty collection");
    }
    getItemOrNullObject() {
      const out = new NullProxy(this._ctx);
      return out;
    }
  }
  class NullProxy extends ClientObject {
    constructor(ctx) {
      super(ctx, () => null);
    }
  }

  // Workbook, application ---------------------------------------------------------------------------------
  class WorkbookProxy extends ClientObject {
    getSelectedRange() {
      return new RangeProxy(this._ctx, () => ({ sheet: host.book.sheets[host.book.selection.sheet], box: host.book.selection.box }));
    }
    getActiveCell() {
      return this.getSelectedRange();
    }
    save() {
      this._call(() => host.log.writes.push({ func: "save" }));
    }
  }
  defineProps(
    WorkbookProxy,
    { name: { get: (b) => b.name } },
    {
      worksheets: (self) => new WorksheetCollectionProxy(self._ctx, () => host.book, LAZY),
      application: (self) => new ApplicationProxy(self._ctx, () => host.book, LAZY),
      names: (self) => new EmptyCollectionProxy(self._ctx, () => host.book, LAZY),
      comments: (self) => new EmptyCollectionProxy(self._ctx, () => host.book, LAZY),
    },
  );

  const CALCULATION_MODES = ["Automatic", "AutomaticExceptTables", "Manual"];
  class ApplicationProxy extends ClientObject {
    calculate(type) {
      if (!["Recalculate", "Full", "FullRebuild"].includes(type)) {
        throw new RichApiError("InvalidArgument", `calculate(${type})`);
      }
      this._call(() => {
        host.log.calculations.push(type);
        recalculate(type === "Recalculate" ? "dirty" : "all");
      });
    }
    suspendScreenUpdatingUntilNextSync() {
      this._call(() => (host.log.screenUpdatingSuspensions += 1));
    }
  }
  defineProps(
    ApplicationProxy,
    {
      calculationMode: {
        get: (b) => b.calculationMode,
        set: (b, mode) => {
          if (!CALCULATION_MODES.includes(mode)) throw new RichApiError("InvalidArgument", `calculationMode ${mode}`);
          const wasManual = b.calculationMode === "Manual";
          b.calculationMode = mode;
          host.log.calculationModes.push(mode);
          if (wasManual && mode !== "Manual") recalculate("dirty");
        },
      },
    },
    { cultureInfo: (self) => new CultureInfoProxy(self._ctx, () => ({ name: "en-US" }), LAZY) },
  );
  class CultureInfoProxy extends ClientObject {}
  defineProps(
    CultureInfoProxy,
    { name: { get: (c) => c.name } },
    { datetimeFormat: (self) => new DatetimeFormatProxy(self._ctx, () => ({ shortDatePattern: "M/d/yyyy" }), LAZY) },
  );
  class DatetimeFormatProxy extends ClientObject {}
  defineProps(DatetimeFormatProxy, { shortDatePattern: { get: (d) => d.shortDatePattern } });

  // Worksheets ----------------------------------------------------------------------------------------------
  class WorksheetCollectionProxy extends CollectionProxy {
    static itemsOf(book) {
      return book.sheets;
    }
    static wrap(ctx, sheet) {
      return new WorksheetProxy(ctx, sheet, DIRECT);
    }
    getItem(name) {
      return new WorksheetProxy(this._ctx, () => {
        const sheet = sheetByName(name);
        if (!sheet) throw new RichApiError("ItemNotFound", `The requested resource doesn't exist: worksheet ${name}`);
        return sheet;
      });
    }
    getItemOrNullObject(name) {
      return new WorksheetProxy(this._ctx, () => sheetByName(name));
    }
    getActiveWorksheet() {
      return new WorksheetProxy(this._ctx, () => host.book.sheets[host.book.active]);
    }
    get onCalculated() {
      return { add: () => ({ remove() {} }) };
    }
  }

  class WorksheetProxy extends ClientObject {
    getRange(address) {
      return new RangeProxy(this._ctx, () => {
        const sheet = this._t();
        const parsed = parseAddress(address || "A1:XFD1048576");
        if (parsed.sheet && parsed.sheet.toLowerCase() !== sheet.name.toLowerCase()) {
          throw new RichApiError("InvalidArgument", `${address} is not on ${sheet.name}`);
        }
        return { sheet, box: parsed.box };
      });
    }
    getRangeByIndexes(row, column, rowCount, columnCount) {
      return new RangeProxy(this._ctx, () => {
        if (![row, column, rowCount, columnCount].every(Number.isInteger) || rowCount < 1 || columnCount < 1) {
          throw new RichApiError("InvalidArgument", `getRangeByIndexes(${row}, ${column}, ${rowCount}, ${columnCount})`);
        }
        return { sheet: this._t(), box: [row, column, row + rowCount - 1, column + columnCount - 1] };
      });
    }
    getUsedRangeOrNullObject(valuesOnly) {
      return new RangeProxy(this._ctx, () => {
        const sheet = this._t();
        const box = sheet.usedBox(Boolean(valuesOnly));
        return box ? { sheet, box } : null;
      });
    }
    getUsedRange(valuesOnly) {
      return new RangeProxy(this._ctx, () => {
        const sheet = this._t();
        return { sheet, box: sheet.usedBox(Boolean(valuesOnly)) || [0, 0, 0, 0] };
      });
    }
    get onSelectionChanged() {
      return { add: () => ({ remove() {}, context: this._ctx }) };
    }
  }
  const emptyCollection = (self) => new EmptyCollectionProxy(self._ctx, () => self._t(), LAZY);
  defineProps(
    WorksheetProxy,
    {
      name: { get: (s) => s.name },
      position: { get: (s) => host.book.sheets.indexOf(s) },
      visibility: { get: (s) => s.visibility },
      showGridlines: { get: (s) => s.showGridlines },
    },
    {
      tables: (self) => new TableCollectionProxy(self._ctx, () => self._t(), LAZY),
      names: emptyCollection,
      notes: emptyCollection,
      comments: emptyCollection,
      shapes: emptyCollection,
      charts: emptyCollection,
      pivotTables: emptyCollection,
      pageLayout: (self) => new PageLayoutProxy(self._ctx, () => self._t(), LAZY),
    },
  );
  class PageLayoutProxy extends ClientObject {
    getPrintAreaOrNullObject() {
      return new NullProxy(this._ctx); // the workbooks under test have no print area
    }
  }

  // Ranges ----------------------------------------------------------------------------------------------------
  function rangeValues(target) {
    const [t, l, b, r] = target.box;
    return Array.from({ length: b - t + 1 }, (_, i) =>
      Array.from({ length: r - l + 1 }, (_, j) => target.sheet.cell(t + i, l + j).value),
    );
  }
  class RangeProxy extends ClientObject {
    clear(applyTo = "All") {
      if (!["All", "Formats", "Contents"].includes(applyTo)) throw notInShim(`Range.clear(${applyTo})`);
      this._call((t) => clearBox(t.sheet, t.box, applyTo));
    }
    select() {
      this._call((t) => (host.book.selection = { sheet: host.book.sheets.indexOf(t.sheet), box: t.box }));
    }
    getCell(row, column) {
      return new RangeProxy(this._ctx, () => {
        const t = this._t();
        return { sheet: t.sheet, box: [t.box[0] + row, t.box[1] + column, t.box[0] + row, t.box[1] + column] };
      });
    }
    getOffsetRange(rows, columns) {
      return new RangeProxy(this._ctx, () => {
        const [a, b, c, d] = this._t().box;
        return { sheet: this._t().sheet, box: [a + rows, b + columns, c + rows, d + columns] };
      });
    }
  }
  defineProps(
    RangeProxy,
    {
      address: { get: (t) => `${quoteSheet(t.sheet.name)}!${boxAddress(t.box)}` },
      rowIndex: { get: (t) => t.box[0] },
      columnIndex: { get: (t) => t.box[1] },
      rowCount: { get: (t) => t.box[2] - t.box[0] + 1 },
      columnCount: { get: (t) => t.box[3] - t.box[1] + 1 },
      values: { get: rangeValues, set: (t, values) => writeValues(t.sheet, t.box, values, "values") },
      numberFormat: {
        get: (t) => {
          const [top, l, b, r] = t.box;
          return Array.from({ length: b - top + 1 }, (_, i) =>
            Array.from({ length: r - l + 1 }, (_, j) => t.sheet.cell(top + i, l + j).numberFormat || "General"),
          );
        },
      },
      formulas: {
        get: (t) => {
          const [top, l, b, r] = t.box;
          return Array.from({ length: b - top + 1 }, (_, i) =>
            Array.from({ length: r - l + 1 }, (_, j) => {
              const cell = t.sheet.cell(top + i, l + j);
              return cell.formula || cell.value;
            }),
          );
        },
      },
    },
    { worksheet: (self) => new WorksheetProxy(self._ctx, () => self._t().sheet, LAZY) },
  );

  // Tables ------------------------------------------------------------------------------------------------------
  class TableCollectionProxy extends CollectionProxy {
    static itemsOf(sheet) {
      return sheet.tables;
    }
    static wrap(ctx, table) {
      return new TableProxy(ctx, table, DIRECT);
    }
    getItem(name) {
      return new TableProxy(this._ctx, () => {
        const table = this._t().tables.find((x) => x.name.toLowerCase() === String(name).toLowerCase());
        if (!table) throw new RichApiError("ItemNotFound", `table ${name}`);
        return table;
      });
    }
  }
  function resizeTable(table, address) {
    const parsed = parseAddress(address);
    if (parsed.sheet && parsed.sheet.toLowerCase() !== table.sheet.name.toLowerCase()) {
      throw new RichApiError("InvalidArgument", `resize: ${address} is not on ${table.sheet.name}`);
    }
    const box = parsed.box;
    if (box[0] !== table.box[0]) {
      throw new RichApiError("InvalidArgument", `resize ${table.name} to ${address}: the header row must stay in place`);
    }
    if (!overlaps(box, table.box)) {
      throw new RichApiError("InvalidArgument", `resize ${table.name} to ${address}: must overlap the table`);
    }
    if (box[2] - box[0] < (table.showHeaders ? 1 : 0)) {
      throw new RichApiError("InvalidArgument", `resize ${table.name} to ${address}: a table needs a data row`);
    }
    const other = table.sheet.tables.find((x) => x !== table && overlaps(x.box, box));
    if (other) throw new RichApiError("InvalidArgument", `resize ${table.name} to ${address}: overlaps ${other.name}`);
    host.log.resizes.push({ sheet: table.sheet.name, table: table.name, from: boxAddress(table.box), to: boxAddress(box) });
    table.box = box;
  }
  class TableProxy extends ClientObject {
    getRange() {
      return new RangeProxy(this._ctx, () => ({ sheet: this._t().sheet, box: this._t().box }));
    }
    getDataBodyRange() {
      return new RangeProxy(this._ctx, () => ({ sheet: this._t().sheet, box: this._t().bodyBox() }));
    }
    getHeaderRowRange() {
      return new RangeProxy(this._ctx, () => {
        const t = this._t();
        if (!t.showHeaders) throw new RichApiError("InvalidOperation", `${t.name} shows no header row`);
        return { sheet: t.sheet, box: [t.box[0], t.box[1], t.box[0], t.box[3]] };
      });
    }
    getTotalRowRange() {
      return new RangeProxy(this._ctx, () => {
        const t = this._t();
        if (!t.showTotals) throw new RichApiError("InvalidOperation", `${t.name} shows no total row`);
        return { sheet: t.sheet, box: [t.box[2], t.box[1], t.box[2], t.box[3]] };
      });
    }
    resize(address) {
      this._call((t) => resizeTable(t, address));
    }
  }
  defineProps(
    TableProxy,
    {
      id: { get: (t) => `{${t.name}}` },
      name: {
        get: (t) => t.name,
        set: (t, name) => {
          if (allTables().some((x) => x !== t && x.name.toLowerCase() === String(name).toLowerCase())) {
            throw new RichApiError("InvalidArgument", `a table named ${name} exists`);
          }
          t.name = String(name);
        },
      },
      showHeaders: { get: (t) => t.showHeaders },
      showTotals: { get: (t) => t.showTotals },
      style: { get: (t) => t.style },
      showFilterButton: { get: (t) => t.showFilterButton },
      highlightFirstColumn: { get: (t) => t.highlightFirstColumn },
      highlightLastColumn: { get: (t) => t.highlightLastColumn },
      showBandedRows: { get: (t) => t.showBandedRows },
      showBandedColumns: { get: (t) => t.showBandedColumns },
    },
    { columns: (self) => new TableColumnCollectionProxy(self._ctx, () => self._t(), LAZY) },
  );
  class TableColumnCollectionProxy extends CollectionProxy {
    static itemsOf(table) {
      return table.columns().map((name, index) => ({ name, index }));
    }
    static wrap(ctx, column) {
      return new TableColumnProxy(ctx, column, DIRECT);
    }
  }
  class TableColumnProxy extends ClientObject {}
  defineProps(TableColumnProxy, { name: { get: (c) => c.name }, index: { get: (c) => c.index } });

  // -- custom functions: Excel's side ---------------------------------------------------------------------
  const ERRORS = {
    Div0: "#DIV/0!",
    NotAvailable: "#N/A",
    Name: "#NAME?",
    Null: "#NULL!",
    Num: "#NUM!",
    Ref: "#REF!",
    Value: "#VALUE!",
    Busy: "#BUSY!",
    Calc: "#CALC!",
  };
  class CustomFunctionError extends Error {
    constructor(code = "#VALUE!", message = "") {
      super(message);
      this.code = code;
      this.message = message;
    }
  }

  async function addinInfo() {
    // What Excel reads from the sideloaded manifest: the ribbon buttons and the custom functions' metadata.
    if (!host.addin) {
      host.addin = (async () => {
        const manifestUrl = CONFIG.manifestUrl || `${location.origin}/manifest`;
        const xml = new DOMParser().parseFromString(await (await fetch(manifestUrl)).text(), "application/xml");
        const strings = {};
        const urls = {};
        for (const el of xml.getElementsByTagNameNS("*", "String")) strings[el.getAttribute("id")] = el.getAttribute("DefaultValue");
        for (const el of xml.getElementsByTagNameNS("*", "Url")) urls[el.getAttribute("id")] = el.getAttribute("DefaultValue");
        const namespaceEl = xml.getElementsByTagNameNS("*", "Namespace")[0];
        const namespace = namespaceEl ? strings[namespaceEl.getAttribute("resid")] : "";
        const metadataEl = [...xml.getElementsByTagNameNS("*", "Metadata")][0];
        const metadataUrl = urls[metadataEl.getElementsByTagNameNS("*", "SourceLocation")[0].getAttribute("resid")];
        const metadata = await (await fetch(metadataUrl)).json();
        const scriptEl = [...xml.getElementsByTagNameNS("*", "Script")][0];
        const scriptUrl = urls[scriptEl.getElementsByTagNameNS("*", "SourceLocation")[0].getAttribute("resid")];
        const controls = [];
        for (const control of xml.getElementsByTagNameNS("*", "Control")) {
          const label = strings[control.getElementsByTagNameNS("*", "Label")[0].getAttribute("resid")];
          const action = control.getElementsByTagNameNS("*", "Action")[0];
          const kind = action.getAttributeNS("http://www.w3.org/2001/XMLSchema-instance", "type");
          const fn = action.getElementsByTagNameNS("*", "FunctionName")[0];
          controls.push({ id: control.getAttribute("id"), label, kind, functionName: fn ? fn.textContent.trim() : null });
        }
        const tab = xml.getElementsByTagNameNS("*", "CustomTab")[0];
        const tabLabel = strings[[...tab.children].find((c) => c.localName === "Label").getAttribute("resid")];
        return { namespace, metadata, scriptUrl, controls, tabLabel };
      })();
    }
    return host.addin;
  }

  const REFERENCE = /^(?:('(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$/;
  function splitArgs(text) {
    const args = [];
    let depth = 0;
    let quoted = false;
    let current = "";
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') quoted = !quoted;
      if (!quoted && ch === "(") depth++;
      if (!quoted && ch === ")") depth--;
      if (!quoted && depth === 0 && ch === ",") {
        args.push(current);
        current = "";
      } else current += ch;
    }
    if (quoted || depth) throw new CustomFunctionError("#NAME?", `cannot read ${text}`);
    args.push(current);
    return args.map((a) => a.trim());
  }
  function parseFormula(sheet, formula) {
    const m = /^=\s*([A-Za-z_][A-Za-z0-9_.]*)\((.*)\)\s*$/s.exec(formula);
    if (!m) throw new CustomFunctionError("#NAME?", `only custom-function calls are in the shim: ${formula}`);
    const args = m[2].trim() === "" ? [] : splitArgs(m[2]);
    return {
      name: m[1],
      args: args.map((a) => {
        if (a === "") return { omitted: true };
        if (/^".*"$/s.test(a)) return { literal: a.slice(1, -1).replace(/""/g, '"') };
        if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a)) return { literal: parseFloat(a) };
        if (/^(TRUE|FALSE)$/i.test(a)) return { literal: a.toUpperCase() === "TRUE" };
        const ref = REFERENCE.exec(a);
        if (ref) {
          const name = ref[1] ? ref[1].replace(/^'|'$/g, "").replace(/''/g, "'") : sheet.name;
          return { reference: { sheet: name, box: parseAddress(ref[2]).box } };
        }
        throw new CustomFunctionError("#NAME?", `not an argument the shim reads: ${a}`);
      }),
    };
  }
  function newFormula(sheet, r, c, formula) {
    return { sheet, r, c, formula, dirty: true, spill: [r, c, r, c], result: null, message: null, runs: 0 };
  }

  function referenceValues(ref) {
    const sheet = sheetByName(ref.sheet);
    if (!sheet) throw new CustomFunctionError("#REF!", `no sheet ${ref.sheet}`);
    return rangeValues({ sheet, box: ref.box }).map((row) => row.map((v) => (v === "" ? null : v)));
  }
  function resultCell(value) {
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return { value };
    if (value && typeof value === "object") {
      if (value.type === "FormattedNumber") return { value: value.basicValue, numberFormat: value.numberFormat };
      if (["Double", "String", "Boolean"].includes(value.type)) return { value: value.basicValue };
      if (value.type === "Error") return { value: ERRORS[value.errorType] || "#VALUE!" };
    }
    return { value: `#SHIM! a custom function returned ${JSON.stringify(value)}, which this stand-in cannot show` };
  }

  async function evaluate(record) {
    const { sheet, r, c } = record;
    record.runs += 1;
    let grid;
    let message = null;
    try {
      const info = await addinInfo();
      const call = parseFormula(sheet, record.formula);
      const [ns, ...rest] = call.name.split(".");
      const id = rest.length ? rest.join(".") : ns;
      const meta = info.metadata.functions.find((f) => f.name.toUpperCase() === id.toUpperCase());
      if (!rest.length || ns.toUpperCase() !== String(info.namespace).toUpperCase() || !meta) {
        throw new CustomFunctionError("#NAME?", `no function ${call.name}`);
      }
      // Shared runtime: the functions script the manifest names must be the one this page runs.
      const loaded = [...document.scripts].map((el) => el.src && new URL(el.src, location.href).href);
      if (!loaded.includes(new URL(info.scriptUrl, location.href).href)) {
        throw new CustomFunctionError("#NAME?", `the manifest's functions script ${info.scriptUrl} is not in the page`);
      }
      const fn = host.functions[meta.id.toUpperCase()];
      if (!fn) throw new CustomFunctionError("#NAME?", `${meta.id} was never associated`);
      const params = meta.parameters || [];
      if (call.args.length > params.length) throw new CustomFunctionError("#VALUE!", "too many arguments");
      const args = params.map((param, i) => {
        const given = call.args[i];
        if (!given || given.omitted) {
          if (!param.optional) throw new CustomFunctionError("#VALUE!", `${param.name} is required`);
          return null;
        }
        const matrix = given.literal !== undefined ? [[given.literal]] : referenceValues(given.reference);
        return param.dimensionality === "matrix" ? matrix : matrix[0][0];
      });
      const refs = call.args.filter((a) => a.reference).map((a) => a.reference);
      record.references = refs;
      const invocation = {
        functionName: meta.id,
        address: `${quoteSheet(sheet.name)}!${boxAddress([r, c, r, c])}`,
        parameterAddresses: call.args.map((a) =>
          a.reference ? `${quoteSheet(a.reference.sheet)}!${boxAddress(a.reference.box)}` : null,
        ),
        setResult() {
          throw notInShim("streaming results");
        },
      };
      const result = await fn(...args, invocation);
      const isMatrix = (meta.result || {}).dimensionality === "matrix";
      if (isMatrix && !(Array.isArray(result) && result.length && result.every((row) => Array.isArray(row) && row.length === result[0].length))) {
        throw new CustomFunctionError("#VALUE!", `a matrix function returned ${JSON.stringify(result)}`);
      }
      grid = isMatrix ? result : [[result]];
    } catch (error) {
      const code = error instanceof CustomFunctionError ? error.code : "#VALUE!";
      message = error && error.message ? error.message : String(error);
      grid = [[code]];
    }
    if (host.formulas.get(`${sheet.name}|${r},${c}`) !== record) return; // overwritten meanwhile
    render(record, grid, message);
  }
  function render(record, grid, message) {
    const { sheet, r, c } = record;
    const [t, l, b, rr] = record.spill; // the old spill goes first
    for (let i = t; i <= b; i++) for (let j = l; j <= rr; j++) if (i !== r || j !== c) sheet.put(i, j, { value: "" });
    const box = [r, c, r + grid.length - 1, c + grid[0].length - 1];
    let blocked = false;
    for (let i = box[0]; i <= box[2]; i++) {
      for (let j = box[1]; j <= box[3]; j++) {
        if ((i !== r || j !== c) && (sheet.cell(i, j).value !== "" || host.formulas.has(`${sheet.name}|${i},${j}`))) blocked = true;
      }
    }
    if (blocked) {
      grid = [["#SPILL!"]];
      message = "the spill range is not empty";
    }
    record.spill = blocked ? [r, c, r, c] : box;
    grid.forEach((row, i) =>
      row.forEach((value, j) => {
        const shown = resultCell(value);
        const cell = { value: shown.value };
        if (shown.numberFormat) cell.numberFormat = shown.numberFormat;
        if (i === 0 && j === 0) cell.formula = record.formula;
        sheet.put(r + i, c + j, cell);
      }),
    );
    record.message = message;
    record.dirty = false;
  }
  function schedule(record) {
    record.dirty = true;
    if (host.book.calculationMode === "Manual") return;
    track(Promise.resolve().then(() => evaluate(record)));
  }
  function recalculate(which) {
    for (const record of host.formulas.values()) {
      if (which === "all" || record.dirty) track(Promise.resolve().then(() => evaluate(record)));
    }
  }
  let changedSinceSync = [];
  function changed(sheet, box) {
    changedSinceSync.push({ sheet: sheet.name, box });
  }
  function endOfSync() {
    // Excel recalculates a formula whose inputs changed (and marks it dirty while calculation is manual).
    const changes = changedSinceSync;
    changedSinceSync = [];
    if (!changes.length) return;
    for (const record of host.formulas.values()) {
      const hit = (record.references || []).some((ref) =>
        changes.some((ch) => ch.sheet.toLowerCase() === ref.sheet.toLowerCase() && overlaps(ch.box, ref.box)),
      );
      if (hit) schedule(record);
    }
  }

  // -- the Office, Excel and CustomFunctions namespaces -------------------------------------------------
  async function run(...args) {
    const batch = args.pop();
    if (typeof batch !== "function") throw notInShim("Excel.run without a batch function");
    const given = args[0];
    const ctx = given instanceof RequestContext ? given : given && given._ctx ? given._ctx : new RequestContext();
    const result = await batch(ctx);
    await ctx.sync();
    return result;
  }
  const ready = Promise.resolve({ host: "Excel", platform: "OfficeOnline" });

  globalThis.OfficeExtension = {
    Error: RichApiError,
    ErrorCodes: { itemNotFound: "ItemNotFound", invalidArgument: "InvalidArgument", generalException: "GeneralException" },
  };
  globalThis.Excel = {
    run: (...args) => track(run(...args)),
    RequestContext,
    ClearApplyTo: { all: "All", formats: "Formats", contents: "Contents", hyperlinks: "Hyperlinks", removeHyperlinks: "RemoveHyperlinks" },
    CalculationType: { recalculate: "Recalculate", full: "Full", fullRebuild: "FullRebuild" },
    CalculationMode: { automatic: "Automatic", automaticExceptTables: "AutomaticExceptTables", manual: "Manual" },
    ShapeType: { image: "Image", geometricShape: "GeometricShape", group: "Group", line: "Line" },
    SaveBehavior: { save: "Save", prompt: "Prompt" },
  };
  globalThis.CustomFunctions = {
    associate(id, fn) {
      if (typeof id === "object") {
        for (const [key, value] of Object.entries(id)) this.associate(key, value);
        return;
      }
      host.functions[String(id).toUpperCase()] = fn;
    },
    Error: CustomFunctionError,
    ErrorCode: {
      divisionByZero: "#DIV/0!",
      invalidName: "#NAME?",
      invalidNumber: "#NUM!",
      invalidReference: "#REF!",
      invalidValue: "#VALUE!",
      notAvailable: "#N/A",
      nullReference: "#NULL!",
    },
  };
  globalThis.Office = {
    onReady(callback) {
      return ready.then((info) => {
        if (callback) callback(info);
        return info;
      });
    },
    HostType: { Excel: "Excel" },
    PlatformType: { OfficeOnline: "OfficeOnline", PC: "PC", Mac: "Mac" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    StartupBehavior: { load: "Load", none: "None" },
    context: {
      host: "Excel",
      platform: "OfficeOnline",
      displayLanguage: "en-US",
      diagnostics: { host: "Excel", platform: "OfficeOnline", version: "16.0 (sopxl Office.js stand-in)" },
      requirements: {
        isSetSupported(name, version = "1.1") {
          const have = SUPPORTED_SETS[String(name).toLowerCase()];
          if (!have) return false;
          const [a, b] = String(version).split(".").map(Number);
          const [x, y] = have.split(".").map(Number);
          return x > a || (x === a && y >= (b || 0));
        },
      },
      ui: {
        displayDialogAsync(url, options, callback) {
          const query = new URL(url, location.href).searchParams;
          const record = { url, prompt: query.get("prompt"), title: query.get("title"), buttons: query.get("buttons"), mode: query.get("mode"), options };
          if (host.openDialog && !host.openDialog.closed) {
            callback({ status: "failed", error: { code: 12007, message: "A dialog box is already opened from this add-in." } });
            return;
          }
          const dialog = { closed: false, addEventHandler() {}, close() { this.closed = true; } };
          host.openDialog = dialog;
          host.log.dialogs.push(record);
          callback({ status: "succeeded", value: dialog });
        },
        messageParent() {
          throw notInShim("messageParent (the task pane is not a dialog)");
        },
      },
    },
    actions: {
      associate(id, fn) {
        host.actions[id] = fn;
      },
    },
    addin: {
      showAsTaskpane: async () => {},
      setStartupBehavior: async () => {},
    },
    auth: {
      getAccessToken: async () => {
        throw notInShim("Office.auth (sign-in)");
      },
    },
  };

  // -- the test's hands and eyes --------------------------------------------------------------------------
  const WAIT_MS = CONFIG.waitMs || 240000; // a test never hangs: a wait that does not end fails
  function within(promise, what) {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${WAIT_MS} ms`)), WAIT_MS);
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }
  function settled() {
    return within(
      (async () => {
        while (host.pending.size) await Promise.allSettled([...host.pending]);
      })(),
      "the workbook settling (batches and calculations ending)",
    );
  }
  function dumpSheet(sheet) {
    let [, , bottom, right] = sheet.usedBox() || [0, 0, 0, 0];
    for (const table of sheet.tables) [bottom, right] = [Math.max(bottom, table.box[2]), Math.max(right, table.box[3])];
    const values = rangeValues({ sheet, box: [0, 0, bottom, right] });
    const numberFormats = {};
    const formulas = {};
    for (const [key, cell] of sheet.cells) {
      const [r, c] = key.split(",").map(Number);
      if (cell.numberFormat && cell.numberFormat !== "General") numberFormats[boxAddress([r, c, r, c])] = cell.numberFormat;
    }
    for (const record of host.formulas.values()) {
      if (record.sheet !== sheet) continue;
      formulas[boxAddress([record.r, record.c, record.r, record.c])] = {
        formula: record.formula,
        spill: boxAddress(record.spill),
        message: record.message,
        runs: record.runs,
      };
    }
    return {
      name: sheet.name,
      values,
      number_formats: numberFormats,
      formulas,
      tables: sheet.tables.map((t) => ({ name: t.name, range_address: boxAddress(t.box), columns: t.columns() })),
    };
  }
  globalThis.__sopxlShim = {
    settled,
    dump() {
      return {
        book: { name: host.book.name, calculation: host.book.calculationMode },
        sheets: host.book.sheets.map(dumpSheet),
        log: copy(host.log),
        actions: Object.keys(host.actions),
        functions: Object.keys(host.functions),
      };
    },
    log() {
      return copy(host.log);
    },
    // What a range shows (values only), and what Excel knows of the formulas of a sheet.
    values(sheetName, address) {
      const sheet = sheetByName(sheetName);
      if (!sheet) throw new Error(`no sheet ${sheetName}`);
      return rangeValues({ sheet, box: parseAddress(address).box });
    },
    formulas(sheetName) {
      return dumpSheet(sheetByName(sheetName)).formulas;
    },
    resetLog() {
      host.log = newLog();
      if (host.openDialog) host.openDialog.closed = true; // the user clicked OK
    },
    // The user types into a cell (a value or a formula), as in the grid: Excel reads it like a written entry.
    async type(sheetName, address, text) {
      const sheet = sheetByName(sheetName);
      if (!sheet) throw new Error(`no sheet ${sheetName}`);
      const box = parseAddress(address).box;
      writeValues(sheet, [box[0], box[1], box[0], box[1]], [[text]], null);
      endOfSync();
      await settled();
    },
    addSheet(name) {
      host.book.sheets.push(new SheetModel({ name, values: [] }));
    },
    // A click on a ribbon button: Excel finds the control in the manifest and calls the function its
    // FunctionName names (Office.actions.associate), then waits for event.completed().
    async pressRibbonButton(label) {
      const info = await addinInfo();
      const control = info.controls.find((c) => c.label === label);
      if (!control) throw new Error(`no ribbon button labelled ${label}`);
      if (control.kind !== "ExecuteFunction") throw new Error(`${label} is a ${control.kind} button`);
      const handler = host.actions[control.functionName];
      if (!handler) throw new Error(`no function is associated with ${control.functionName}`);
      let completed;
      const done = new Promise((resolve) => (completed = resolve));
      const event = { source: { id: control.id }, completed: () => completed(true) };
      await within(Promise.resolve(handler(event)), `the ${control.functionName} handler returning`);
      await within(done, `event.completed() of ${control.functionName}`);
      await settled();
      return control.functionName;
    },
    async ribbon() {
      const info = await addinInfo();
      return { tab: info.tabLabel, namespace: info.namespace, controls: info.controls };
    },
  };
})();
