/* The hot loops of the fast PDF extractor (pipeline/extract/pdf.py), compiled: per
 * character (boxes, lines and words), per page object (ruling lines) and per lattice
 * crossing (pdfplumber's table finder).
 *
 * Through ctypes each pdfium call and each tuple built per character costs about a
 * microsecond of interpreter work: on a report of 2,000 characters that is as much as
 * pdfium's own parsing. This module runs the same loops in C. It must give exactly
 * what the Python loops in pdf.py give (tests/test_pdf_fast_c.py compares the two
 * on samples, printed reports and random input), so every rule and every
 * floating-point step below mirrors a line there; change both or neither.
 *
 * pdfium is not linked: pdf.py passes the addresses of the functions of the pdfium
 * library pypdfium2 has loaded (set_functions), so both sides call the same code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { float left, top, right, bottom; } RectF;          /* FS_RECTF */
typedef struct { float a, b, c, d, e, f; } MatrixF;                 /* FS_MATRIX */

typedef int (*loose_box_fn)(void *, int, RectF *);
typedef int (*char_origin_fn)(void *, int, double *, double *);
typedef double (*font_size_fn)(void *, int);
typedef int (*char_matrix_fn)(void *, int, MatrixF *);
typedef int (*is_generated_fn)(void *, int);

static loose_box_fn loose_box;
static char_origin_fn char_origin;
static font_size_fn font_size;
static char_matrix_fn char_matrix;
static is_generated_fn is_generated;

static PyObject *
set_functions(PyObject *self, PyObject *args)
{
    unsigned long long a, b, c, d, e;
    if (!PyArg_ParseTuple(args, "KKKKK", &a, &b, &c, &d, &e))
        return NULL;
    if (!a || !b || !c || !d || !e) {
        PyErr_SetString(PyExc_ValueError, "null pdfium function address");
        return NULL;
    }
    loose_box = (loose_box_fn)(uintptr_t)a;
    char_origin = (char_origin_fn)(uintptr_t)b;
    font_size = (font_size_fn)(uintptr_t)c;
    char_matrix = (char_matrix_fn)(uintptr_t)d;
    is_generated = (is_generated_fn)(uintptr_t)e;
    Py_RETURN_NONE;
}

/* qsort comparators are built from these: Python's sorts are stable, so every key
 * ends with the item's original position. */
static int
cmp_d(double a, double b)
{
    return a < b ? -1 : a > b;
}

static int
cmp_n(Py_ssize_t a, Py_ssize_t b)
{
    return a < b ? -1 : a > b;
}

/* --- page_chars: the per-font cache, a hash table on the loose box height ------- */

typedef struct { double key, size, foot, k; int used; } Known;
typedef struct { Known *slots; size_t cap, n; } Seen;

static size_t
hash_double(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0; /* -0.0 and 0.0 are one key, as in a Python dict */
    memcpy(&u, &v, sizeof u);
    u ^= u >> 33;
    u *= 0xff51afd7ed558ccdULL;
    u ^= u >> 33;
    return (size_t)u;
}

static Known *
seen_find(Seen *s, double key)
{
    size_t i = hash_double(key) & (s->cap - 1);
    while (s->slots[i].used) {
        if (s->slots[i].key == key)
            return &s->slots[i];
        i = (i + 1) & (s->cap - 1);
    }
    return NULL;
}

static int
seen_put(Seen *s, double key, double size, double foot, double k)
{
    if (2 * (s->n + 1) > s->cap) {
        Seen bigger = {calloc(s->cap * 2, sizeof(Known)), s->cap * 2, 0};
        if (!bigger.slots)
            return -1;
        for (size_t j = 0; j < s->cap; j++)
            if (s->slots[j].used) {
                Known *o = &s->slots[j];
                size_t i = hash_double(o->key) & (bigger.cap - 1);
                while (bigger.slots[i].used)
                    i = (i + 1) & (bigger.cap - 1);
                bigger.slots[i] = *o;
                bigger.n++;
            }
        free(s->slots);
        *s = bigger;
    }
    size_t i = hash_double(key) & (s->cap - 1);
    while (s->slots[i].used)
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = (Known){key, size, foot, k, 1};
    s->n++;
    return 0;
}

static int
is_blank(Py_UCS4 c)
{
    return c == ' ' || c == '\t' || c == 0xA0 || c == 0x3000 || c == 0x2002 || c == 0x2003 || c == 0x2009;
}

static PyObject *
make_char(PyObject *ch, double x0, double top, double x1, double bottom)
{
    PyObject *t = PyTuple_New(5);
    if (!t)
        return NULL;
    PyObject *v[4] = {PyFloat_FromDouble(x0), PyFloat_FromDouble(top), PyFloat_FromDouble(x1),
                      PyFloat_FromDouble(bottom)};
    for (int i = 0; i < 4; i++)
        if (!v[i]) {
            for (int j = 0; j < 4; j++)
                Py_XDECREF(v[j]);
            Py_DECREF(t);
            return NULL;
        }
    Py_INCREF(ch);
    PyTuple_SET_ITEM(t, 0, ch);
    for (int i = 0; i < 4; i++)
        PyTuple_SET_ITEM(t, i + 1, v[i]);
    return t;
}

/* page_chars(textpage_address, text, top_y) -> (chars, nonblank)
 * The loop of pdf._char_boxes (pdf._page_chars from the decoded text on); see there. */
static PyObject *
page_chars(PyObject *self, PyObject *args)
{
    unsigned long long tpa;
    PyObject *text;
    double top_y;
    if (!PyArg_ParseTuple(args, "KUd", &tpa, &text, &top_y))
        return NULL;
    if (!loose_box) {
        PyErr_SetString(PyExc_RuntimeError, "set_functions was not called");
        return NULL;
    }
    void *tp = (void *)(uintptr_t)tpa;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    Seen seen = {calloc(16, sizeof(Known)), 16, 0};
    if (!seen.slots) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    int nonblank = 0;
    RectF r;
    MatrixF m;
    double ox, oy;
    for (Py_ssize_t idx = 0; idx < n; idx++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, idx);
        if (c == 0x0D || c == 0x0A || c == 0xFFFE || c == 0x00)
            continue; /* pdfium's line breaks and placeholders */
        if (c == ' ' && is_generated(tp, (int)idx) == 1)
            continue; /* a space pdfium invented at a guessed word gap */
        if (!loose_box(tp, (int)idx, &r))
            continue;
        double x0 = r.left, lt = r.top, x1 = r.right, lb = r.bottom;
        double size, foot, k;
        Known *known = seen_find(&seen, lt - lb);
        if (known) {
            size = known->size, foot = known->foot, k = known->k;
        } else {
            if (!char_origin(tp, (int)idx, &ox, &oy))
                continue;
            double base = oy;
            size = font_size(tp, (int)idx);
            k = 1.0;
            double h = lt - lb;
            if (!(4.0 <= size && size <= 72.0) || h > 1.6 * size || h < 0.5 * size) {
                if (char_matrix(tp, (int)idx, &m)) {
                    double ma = m.a, mb = m.b, mc = m.c, md = m.d;
                    k = pow(fabs(ma * md - mb * mc), 0.5);
                    if (k > 0)
                        size *= k;
                }
            }
            foot = top_y - (base - lb);
            k = (0 < k && k < 1) ? k : 0.0;
            if (!isnan(h) && seen_put(&seen, h, size, foot, k) < 0) {
                free(seen.slots);
                Py_DECREF(out);
                return PyErr_NoMemory();
            }
        }
        if (k != 0.0 && x1 - x0 > 3 * size + 6) {
            if (char_origin(tp, (int)idx, &ox, &oy)) {
                double o = ox;
                double nx0 = o + (x0 - o) * k, nx1 = o + (x1 - o) * k;
                x0 = nx0, x1 = nx1;
            }
        }
        if (x1 < x0) {
            double t = x0;
            x0 = x1, x1 = t;
        }
        double bottom = foot - lb;
        PyObject *ch = PyUnicode_Substring(text, idx, idx + 1);
        PyObject *tup = ch ? make_char(ch, x0, bottom - size, x1, bottom) : NULL;
        Py_XDECREF(ch);
        if (!tup || PyList_Append(out, tup) < 0) {
            Py_XDECREF(tup);
            free(seen.slots);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(tup);
        if (!nonblank && !is_blank(c))
            nonblank = 1;
    }
    free(seen.slots);
    return Py_BuildValue("(Ni)", out, nonblank);
}

/* --- page_rules: the common path objects of a page ---------------------------- */

typedef int (*count_objects_fn)(void *);
typedef void *(*get_object_fn)(void *, int);
typedef int (*object_type_fn)(void *);
typedef int (*draw_mode_fn)(void *, int *, int *);
typedef int (*count_segments_fn)(void *);
typedef int (*bounds_fn)(void *, float *, float *, float *, float *);

static count_objects_fn count_objects;
static get_object_fn get_object;
static object_type_fn object_type;
static draw_mode_fn draw_mode;
static count_segments_fn count_segments;
static bounds_fn object_bounds;

static PyObject *
set_path_functions(PyObject *self, PyObject *args)
{
    unsigned long long a[6];
    if (!PyArg_ParseTuple(args, "KKKKKK", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]))
        return NULL;
    for (int i = 0; i < 6; i++)
        if (!a[i]) {
            PyErr_SetString(PyExc_ValueError, "null pdfium function address");
            return NULL;
        }
    count_objects = (count_objects_fn)(uintptr_t)a[0];
    get_object = (get_object_fn)(uintptr_t)a[1];
    object_type = (object_type_fn)(uintptr_t)a[2];
    draw_mode = (draw_mode_fn)(uintptr_t)a[3];
    count_segments = (count_segments_fn)(uintptr_t)a[4];
    object_bounds = (bounds_fn)(uintptr_t)a[5];
    Py_RETURN_NONE;
}

/* Appends (kind, item): kind 'v' or 'h' with a rule (a, b, c); 'p' or 'f' with the
 * index of a path or form object that pdf._path or pdf._form must read in full. */
static int
emit(PyObject *items, char *kinds, Py_ssize_t *nk, char kind, PyObject *item)
{
    if (!item || PyList_Append(items, item) < 0) {
        Py_XDECREF(item);
        return -1;
    }
    Py_DECREF(item);
    kinds[(*nk)++] = kind;
    return 0;
}

/* page_rules(page, top_y, path_type, form_type, max_stroke, thin, max_paths)
 *   -> (items, kinds) or None when the page has more than max_paths paths.
 * The loop of pdf._page_rules_py and the shortcuts at the top of pdf._path (a single
 * stroked segment; a thick filled shape); every other path and every form object is
 * handed back by index, in page order, for pdf._path and pdf._form. */
static PyObject *
page_rules(PyObject *self, PyObject *args)
{
    unsigned long long pa;
    double top_y, max_stroke, thin;
    int path_t, form_t, max_paths;
    if (!PyArg_ParseTuple(args, "Kdiiddi", &pa, &top_y, &path_t, &form_t, &max_stroke, &thin, &max_paths))
        return NULL;
    if (!count_objects) {
        PyErr_SetString(PyExc_RuntimeError, "set_path_functions was not called");
        return NULL;
    }
    void *page = (void *)(uintptr_t)pa;
    int n = count_objects(page);
    if (n < 0)
        n = 0;
    PyObject *items = PyList_New(0);
    char *kinds = PyMem_Malloc(n + 1);
    if (!items || !kinds) {
        Py_XDECREF(items);
        PyMem_Free(kinds);
        return PyErr_NoMemory();
    }
    Py_ssize_t nk = 0;
    int paths = 0, err = 0;
    for (int k = 0; k < n && !err; k++) {
        void *obj = get_object(page, k);
        int t = object_type(obj);
        if (t == form_t) {
            err = emit(items, kinds, &nk, 'f', PyLong_FromLong(k));
            continue;
        }
        if (t != path_t)
            continue; /* most objects are text */
        if (++paths > max_paths) {
            Py_DECREF(items);
            PyMem_Free(kinds);
            Py_RETURN_NONE;
        }
        int fillmode, stroke_i;
        if (!draw_mode(obj, &fillmode, &stroke_i))
            continue;
        int stroke = stroke_i != 0;
        if (!stroke && fillmode == 0)
            continue; /* FPDF_FILLMODE_NONE: invisible */
        int nseg = count_segments(obj);
        float lf, bf, rf, tf;
        if (stroke && nseg == 2) {
            if (object_bounds(obj, &lf, &bf, &rf, &tf)) {
                double lv = lf, bv = bf, rv = rf, tv = tf;
                double x0 = lv, x1 = rv, y0 = top_y - tv, y1 = top_y - bv;
                double w = x1 - x0, ht = y1 - y0;
                if (ht <= w && ht <= 2 * max_stroke) {
                    double e = ht / 2;
                    err = emit(items, kinds, &nk, 'h', Py_BuildValue("(ddd)", y0 + e, x0 + e, x1 - e));
                } else if (w < ht && w <= 2 * max_stroke) {
                    double e = w / 2;
                    err = emit(items, kinds, &nk, 'v', Py_BuildValue("(ddd)", x0 + e, y0 + e, y1 - e));
                }
                continue;
            }
        } else if (!stroke && nseg <= 5) {
            if (object_bounds(obj, &lf, &bf, &rf, &tf)) {
                double lv = lf, bv = bf, rv = rf, tv = tf;
                double a = rv - lv, b = tv - bv;
                if ((b < a ? b : a) > thin + 1) /* min(a, b) as Python takes it */
                    continue; /* shading or a white background, not a rule */
            }
        }
        err = emit(items, kinds, &nk, 'p', PyLong_FromLong(k));
    }
    if (err) {
        Py_DECREF(items);
        PyMem_Free(kinds);
        return NULL;
    }
    PyObject *kb = PyBytes_FromStringAndSize(kinds, nk);
    PyMem_Free(kinds);
    if (!kb) {
        Py_DECREF(items);
        return NULL;
    }
    return Py_BuildValue("(NN)", items, kb);
}

/* --- find_tables: pdfplumber's lattice ------------------------------------------ */
/* pdf._find_tables_py step by step: snap, join, crossings, smallest cell per corner,
 * cells sharing corners grouped into tables. Inputs with a NaN, an infinity or a
 * signed zero make it return None (the Python version then runs): there the two
 * languages' notions of equal keys part. */

typedef struct { double pos, start, end; Py_ssize_t order; } Rule;

static int
rule_by_pos(const void *a, const void *b)
{
    const Rule *p = a, *q = b;
    return p->pos != q->pos ? cmp_d(p->pos, q->pos) : cmp_n(p->order, q->order);
}

static int
rule_by_pos_start(const void *a, const void *b)
{
    const Rule *p = a, *q = b;
    if (p->pos != q->pos)
        return cmp_d(p->pos, q->pos);
    return p->start != q->start ? cmp_d(p->start, q->start) : cmp_n(p->order, q->order);
}

static void
snap(Rule *r, Py_ssize_t n, double tol)
{
    if (n == 0)
        return;
    for (Py_ssize_t i = 0; i < n; i++)
        r[i].order = i;
    qsort(r, n, sizeof(Rule), rule_by_pos);
    Py_ssize_t start = 0;
    double last = r[0].pos;
    for (Py_ssize_t i = 1; i <= n; i++) {
        if (i < n && r[i].pos <= last + tol) {
            last = r[i].pos;
            continue;
        }
        double total = 0.0;
        for (Py_ssize_t j = start; j < i; j++)
            total += r[j].pos;
        double mean = total / (double)(i - start);
        for (Py_ssize_t j = start; j < i; j++)
            r[j].pos = mean;
        if (i < n)
            start = i, last = r[i].pos;
    }
}

/* Joined and long enough rules, in place; returns how many. */
static Py_ssize_t
join(Rule *r, Py_ssize_t n, double tol, double min_edge)
{
    for (Py_ssize_t i = 0; i < n; i++)
        r[i].order = i;
    qsort(r, n, sizeof(Rule), rule_by_pos_start);
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (m && r[m - 1].pos == r[i].pos && r[i].start <= r[m - 1].end + tol) {
            if (r[i].end > r[m - 1].end)
                r[m - 1].end = r[i].end;
        } else {
            r[m++] = r[i];
        }
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < m; i++)
        if (r[i].end - r[i].start >= min_edge)
            r[k++] = r[i];
    return k;
}

typedef struct { double x, y; int vi, hi; Py_ssize_t order; } Hit;
typedef struct { double x, y; Py_ssize_t first, count; } Point; /* hits[first:first+count] */

static int
hit_by_xy(const void *a, const void *b)
{
    const Hit *p = a, *q = b;
    if (p->x != q->x)
        return cmp_d(p->x, q->x);
    return p->y != q->y ? cmp_d(p->y, q->y) : cmp_n(p->order, q->order);
}

static Point *g_points; /* for qsort of indices by (y, x) */

static int
idx_by_yx(const void *a, const void *b)
{
    const Point *p = &g_points[*(const Py_ssize_t *)a], *q = &g_points[*(const Py_ssize_t *)b];
    return p->y != q->y ? cmp_d(p->y, q->y) : cmp_d(p->x, q->x); /* no two points are equal */
}

/* Do the points share a vertical (which 0) or a horizontal (which 1) rule? */
static int
share(const Hit *hits, const Point *a, const Point *b, int which)
{
    for (Py_ssize_t i = a->first; i < a->first + a->count; i++)
        for (Py_ssize_t j = b->first; j < b->first + b->count; j++)
            if (which ? hits[i].hi == hits[j].hi : hits[i].vi == hits[j].vi)
                return 1;
    return 0;
}

static Py_ssize_t
find_point(const Point *pts, Py_ssize_t n, double x, double y)
{
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (pts[mid].x < x || (pts[mid].x == x && pts[mid].y < y))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && pts[lo].x == x && pts[lo].y == y ? lo : -1;
}

typedef struct { double x0, top, x1, bottom; } Cell;
typedef struct { double x, y; Py_ssize_t cell; } Corner;

static int
corner_cmp(const void *a, const void *b)
{
    const Corner *p = a, *q = b;
    if (p->x != q->x)
        return cmp_d(p->x, q->x);
    return p->y != q->y ? cmp_d(p->y, q->y) : cmp_n(p->cell, q->cell);
}

static Py_ssize_t
uf_find(Py_ssize_t *parent, Py_ssize_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

typedef struct { double key_top, key_x0; Py_ssize_t first, order; } Group;

static int
group_cmp(const void *a, const void *b)
{
    const Group *p = a, *q = b;
    if (p->key_top != q->key_top)
        return cmp_d(p->key_top, q->key_top);
    return p->key_x0 != q->key_x0 ? cmp_d(p->key_x0, q->key_x0) : cmp_n(p->order, q->order);
}

static int
read_rules(PyObject *seq, Rule **out, Py_ssize_t *n, int *odd)
{
    PyObject *fast = PySequence_Fast(seq, "rules must be a sequence");
    if (!fast)
        return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    Rule *r = PyMem_Malloc((len + 1) * sizeof(Rule));
    if (!r) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
            PyErr_SetString(PyExc_TypeError, "a rule is a tuple (pos, start, end)");
            PyMem_Free(r);
            Py_DECREF(fast);
            return -1;
        }
        double v[3];
        for (int j = 0; j < 3; j++) {
            v[j] = PyFloat_AsDouble(PyTuple_GET_ITEM(t, j));
            if (!isfinite(v[j]) || v[j] == 0.0)
                *odd = 1;
        }
        if (PyErr_Occurred()) {
            PyMem_Free(r);
            Py_DECREF(fast);
            return -1;
        }
        if (v[2] - v[1] >= 0)
            r[k++] = (Rule){v[0], v[1], v[2], 0};
    }
    Py_DECREF(fast);
    *out = r, *n = k;
    return 0;
}

static PyObject *
cell_tuple(const Cell *c)
{
    return Py_BuildValue("(dddd)", c->x0, c->top, c->x1, c->bottom);
}

/* find_tables(v, h, snap_tol, join_tol, min_edge, isect) -> [[(x0, top, x1, bottom)]] | None */
static PyObject *
find_tables(PyObject *self, PyObject *args)
{
    PyObject *vseq, *hseq;
    double snap_tol, join_tol, min_edge, isect;
    if (!PyArg_ParseTuple(args, "OOdddd", &vseq, &hseq, &snap_tol, &join_tol, &min_edge, &isect))
        return NULL;
    Rule *v = NULL, *h = NULL;
    Hit *hits = NULL;
    Point *pts = NULL;
    Py_ssize_t *by_y = NULL, *pos_in_row = NULL, *parent = NULL;
    Cell *cells = NULL;
    Corner *corners = NULL;
    Group *groups = NULL;
    Py_ssize_t *members = NULL;
    PyObject *result = NULL;
    Py_ssize_t nv, nh;
    int odd = 0;
    if (read_rules(vseq, &v, &nv, &odd) < 0)
        goto done;
    if (read_rules(hseq, &h, &nh, &odd) < 0)
        goto done;
    if (odd) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    snap(v, nv, snap_tol);
    snap(h, nh, snap_tol);
    nv = join(v, nv, join_tol, min_edge);
    nh = join(h, nh, join_tol, min_edge);
    if (nv < 2 || nh < 2) {
        result = PyList_New(0);
        goto done;
    }
    /* Crossings. h is sorted by position after join. */
    Py_ssize_t cap = 64, nhits = 0;
    hits = PyMem_Malloc(cap * sizeof(Hit));
    if (!hits)
        goto nomem;
    for (Py_ssize_t vi = 0; vi < nv; vi++) {
        double x = v[vi].pos, vt = v[vi].start, vb = v[vi].end;
        Py_ssize_t lo = 0, hi = nh;
        while (lo < hi) { /* bisect_left on y for vt - isect */
            Py_ssize_t mid = (lo + hi) / 2;
            if (h[mid].pos < vt - isect)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (Py_ssize_t k = lo; k < nh; k++) {
            double y = h[k].pos;
            if (y > vb + isect)
                break;
            if (h[k].start - isect <= x && x <= h[k].end + isect) {
                if (nhits == cap) {
                    Hit *more = PyMem_Realloc(hits, 2 * cap * sizeof(Hit));
                    if (!more)
                        goto nomem;
                    hits = more, cap *= 2;
                }
                hits[nhits] = (Hit){x, y, (int)vi, (int)k, nhits};
                nhits++;
            }
        }
    }
    if (nhits == 0) {
        result = PyList_New(0);
        goto done;
    }
    qsort(hits, nhits, sizeof(Hit), hit_by_xy);
    pts = PyMem_Malloc(nhits * sizeof(Point));
    if (!pts)
        goto nomem;
    Py_ssize_t np = 0;
    for (Py_ssize_t i = 0; i < nhits; i++) {
        if (np && pts[np - 1].x == hits[i].x && pts[np - 1].y == hits[i].y)
            pts[np - 1].count++;
        else
            pts[np++] = (Point){hits[i].x, hits[i].y, i, 1};
    }
    /* Rows: point indices by (y, x); p's row is by_y[pos_in_row[p] ... row_end[p]). */
    by_y = PyMem_Malloc(np * sizeof(Py_ssize_t));
    pos_in_row = PyMem_Malloc(np * sizeof(Py_ssize_t));
    Py_ssize_t *row_end = PyMem_Malloc(np * sizeof(Py_ssize_t));
    if (!by_y || !pos_in_row || !row_end) {
        PyMem_Free(row_end);
        goto nomem;
    }
    for (Py_ssize_t i = 0; i < np; i++)
        by_y[i] = i;
    g_points = pts;
    qsort(by_y, np, sizeof(Py_ssize_t), idx_by_yx);
    for (Py_ssize_t i = 0, s0 = 0; i <= np; i++) {
        if (i < np && pts[by_y[i]].y == pts[by_y[s0]].y)
            continue;
        for (Py_ssize_t j = s0; j < i; j++) {
            row_end[by_y[j]] = i;
            pos_in_row[by_y[j]] = j;
        }
        s0 = i;
    }
    /* The smallest cell below and right of each corner, columns left to right. */
    Py_ssize_t ncells = 0;
    cells = PyMem_Malloc(np * sizeof(Cell));
    if (!cells) {
        PyMem_Free(row_end);
        goto nomem;
    }
    for (Py_ssize_t p = 0; p < np; p++) {
        Py_ssize_t col_end = p;
        while (col_end < np && pts[col_end].x == pts[p].x)
            col_end++;
        int found = 0;
        for (Py_ssize_t b = p + 1; b < col_end && !found; b++) {
            if (!share(hits, &pts[p], &pts[b], 0))
                break;
            for (Py_ssize_t ir = pos_in_row[p] + 1; ir < row_end[p]; ir++) {
                const Point *r = &pts[by_y[ir]];
                if (!share(hits, &pts[p], r, 1))
                    break;
                Py_ssize_t c = find_point(pts, np, r->x, pts[b].y);
                if (c >= 0 && share(hits, &pts[c], &pts[b], 1) && share(hits, &pts[c], r, 0)) {
                    cells[ncells++] = (Cell){pts[p].x, pts[p].y, r->x, pts[b].y};
                    found = 1;
                    break;
                }
            }
        }
    }
    PyMem_Free(row_end);
    /* Cells sharing a corner are one table. */
    corners = PyMem_Malloc((4 * ncells + 1) * sizeof(Corner));
    parent = PyMem_Malloc((ncells + 1) * sizeof(Py_ssize_t));
    groups = PyMem_Malloc((ncells + 1) * sizeof(Group));
    members = PyMem_Malloc((ncells + 1) * sizeof(Py_ssize_t));
    if (!corners || !parent || !groups || !members)
        goto nomem;
    for (Py_ssize_t i = 0; i < ncells; i++) {
        const Cell *c = &cells[i];
        corners[4 * i] = (Corner){c->x0, c->top, i};
        corners[4 * i + 1] = (Corner){c->x0, c->bottom, i};
        corners[4 * i + 2] = (Corner){c->x1, c->top, i};
        corners[4 * i + 3] = (Corner){c->x1, c->bottom, i};
        parent[i] = i;
    }
    qsort(corners, 4 * ncells, sizeof(Corner), corner_cmp);
    for (Py_ssize_t i = 1; i < 4 * ncells; i++)
        if (corners[i].x == corners[i - 1].x && corners[i].y == corners[i - 1].y) {
            Py_ssize_t a = uf_find(parent, corners[i].cell), b = uf_find(parent, corners[i - 1].cell);
            if (a != b)
                parent[a < b ? b : a] = a < b ? a : b; /* the root is the component's first cell */
        }
    /* Components in order of their first cell; each cell's group index in members. */
    Py_ssize_t ng = 0;
    for (Py_ssize_t i = 0; i < ncells; i++) {
        Py_ssize_t root = uf_find(parent, i);
        if (root == i) {
            groups[ng] = (Group){cells[i].top, cells[i].x0, i, ng};
            members[i] = ng++;
        } else {
            Py_ssize_t g = members[root];
            members[i] = g;
            Group *gr = &groups[g];
            if (cells[i].top < gr->key_top || (cells[i].top == gr->key_top && cells[i].x0 < gr->key_x0))
                gr->key_top = cells[i].top, gr->key_x0 = cells[i].x0;
        }
    }
    Py_ssize_t *sizes = PyMem_Calloc(ng + 1, sizeof(Py_ssize_t));
    if (!sizes)
        goto nomem;
    for (Py_ssize_t i = 0; i < ncells; i++)
        sizes[members[i]]++;
    PyObject **lists = PyMem_Calloc(ng + 1, sizeof(PyObject *));
    if (!lists) {
        PyMem_Free(sizes);
        goto nomem;
    }
    int err = 0;
    for (Py_ssize_t g = 0; g < ng && !err; g++)
        if (sizes[g] > 1 && !(lists[g] = PyList_New(0)))
            err = 1;
    for (Py_ssize_t i = 0; i < ncells && !err; i++) {
        PyObject *l = lists[members[i]];
        if (!l)
            continue;
        PyObject *t = cell_tuple(&cells[i]);
        if (!t || PyList_Append(l, t) < 0)
            err = 1;
        Py_XDECREF(t);
    }
    Py_ssize_t nkeep = 0;
    for (Py_ssize_t g = 0; g < ng; g++)
        if (sizes[g] > 1)
            groups[nkeep++] = groups[g];
    qsort(groups, nkeep, sizeof(Group), group_cmp);
    if (!err && (result = PyList_New(nkeep)))
        for (Py_ssize_t k = 0; k < nkeep; k++) {
            PyObject *l = lists[groups[k].order];
            Py_INCREF(l);
            PyList_SET_ITEM(result, k, l);
        }
    for (Py_ssize_t g = 0; g < ng; g++)
        Py_XDECREF(lists[g]);
    PyMem_Free(lists);
    PyMem_Free(sizes);
    goto done;
nomem:
    PyErr_NoMemory();
done:
    PyMem_Free(v);
    PyMem_Free(h);
    PyMem_Free(hits);
    PyMem_Free(pts);
    PyMem_Free(by_y);
    PyMem_Free(pos_in_row);
    PyMem_Free(cells);
    PyMem_Free(corners);
    PyMem_Free(parent);
    PyMem_Free(groups);
    PyMem_Free(members);
    return result;
}

/* --- chars_to_text: characters into lines, lines into text ---------------------- */

#define X_TOL 3.0
#define Y_TOL 3.0

typedef struct { Py_UCS4 ch; double x0, top, x1; Py_ssize_t order; } Ch;

static int
by_top(const void *a, const void *b)
{
    const Ch *p = a, *q = b;
    return p->top != q->top ? cmp_d(p->top, q->top) : cmp_n(p->order, q->order);
}

static int
by_x0(const void *a, const void *b)
{
    const Ch *p = a, *q = b;
    return p->x0 != q->x0 ? cmp_d(p->x0, q->x0) : cmp_n(p->order, q->order);
}

/* One line (sorted by x0) appended to buf: pdf._line_text. Returns chars written. */
static Py_ssize_t
line_text(const Ch *line, Py_ssize_t n, Py_UCS4 *buf)
{
    Py_ssize_t w = 0;
    int have_prev = 0, gap = 0;
    Py_UCS4 pch = 0;
    double px0 = 0, px1 = 0, ptop = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const Ch *c = &line[i];
        if (Py_UNICODE_ISSPACE(c->ch)) {
            gap = 1;
            continue;
        }
        if (have_prev) {
            double dy = c->top - ptop;
            if (c->ch == pch && c->x0 - px0 <= 1.0 && -1.0 <= dy && dy <= 1.0)
                continue; /* fake bold: the same glyph printed again, offset */
            if (gap || c->x0 < px0 || c->x0 > px1 + X_TOL || dy > Y_TOL || dy < -Y_TOL)
                buf[w++] = ' ';
        }
        buf[w++] = c->ch;
        have_prev = 1;
        pch = c->ch, px0 = c->x0, ptop = c->top, px1 = c->x1;
        gap = 0;
    }
    return w;
}

static int
read_char(PyObject *item, Ch *c)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 4) {
        PyErr_SetString(PyExc_TypeError, "a character is a tuple (text, x0, top, x1, bottom)");
        return -1;
    }
    PyObject *s = PyTuple_GET_ITEM(item, 0);
    if (!PyUnicode_Check(s) || PyUnicode_GET_LENGTH(s) != 1) {
        PyErr_SetString(PyExc_TypeError, "a character's text must be one code point");
        return -1;
    }
    c->ch = PyUnicode_READ_CHAR(s, 0);
    c->x0 = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 1));
    c->top = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 2));
    c->x1 = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 3));
    return PyErr_Occurred() ? -1 : 0;
}

/* chars_to_text(chars) -> str: pdf._chars_to_text_py. */
static PyObject *
chars_to_text(PyObject *self, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "chars must be a sequence");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n == 0) {
        Py_DECREF(seq);
        return PyUnicode_New(0, 0);
    }
    Ch *cs = PyMem_Malloc(n * sizeof(Ch));
    /* Each character plus at most one space before it, and a newline per line. */
    Py_UCS4 *buf = PyMem_Malloc(3 * n * sizeof(Py_UCS4));
    if (!cs || !buf) {
        PyMem_Free(cs);
        PyMem_Free(buf);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    double lo = 0, hi = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (read_char(items[i], &cs[i]) < 0) {
            PyMem_Free(cs);
            PyMem_Free(buf);
            Py_DECREF(seq);
            return NULL;
        }
        cs[i].order = i;
        if (i == 0 || cs[i].top < lo)
            lo = cs[i].top;
        if (i == 0 || cs[i].top > hi)
            hi = cs[i].top;
    }
    Py_DECREF(seq);
    Py_ssize_t w = 0;
    if (hi - lo <= Y_TOL) { /* one line: most table cells */
        qsort(cs, n, sizeof(Ch), by_x0);
        w = line_text(cs, n, buf);
    } else {
        qsort(cs, n, sizeof(Ch), by_top);
        Py_ssize_t start = 0;
        for (Py_ssize_t i = 1; i <= n; i++) {
            if (i < n && cs[i].top <= cs[i - 1].top + Y_TOL)
                continue; /* chained: within Y_TOL of the previous character's top */
            Ch *line = cs + start;
            Py_ssize_t len = i - start;
            for (Py_ssize_t j = 0; j < len; j++)
                line[j].order = j; /* stable sort by x within the line */
            qsort(line, len, sizeof(Ch), by_x0);
            Py_ssize_t mark = w;
            if (w > 0)
                buf[w++] = '\n';
            Py_ssize_t got = line_text(line, len, buf + w);
            if (got == 0)
                w = mark; /* empty lines are dropped */
            else
                w += got;
            start = i;
        }
    }
    PyObject *res = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, w);
    PyMem_Free(cs);
    PyMem_Free(buf);
    return res;
}

static PyMethodDef methods[] = {
    {"set_functions", set_functions, METH_VARARGS,
     "set_functions(loose_box, char_origin, font_size, char_matrix, is_generated): pdfium addresses"},
    {"page_chars", page_chars, METH_VARARGS, "page_chars(textpage, text, top_y) -> (chars, nonblank)"},
    {"set_path_functions", set_path_functions, METH_VARARGS,
     "set_path_functions(count_objects, get_object, object_type, draw_mode, count_segments, bounds)"},
    {"page_rules", page_rules, METH_VARARGS,
     "page_rules(page, top_y, path_type, form_type, max_stroke, thin, max_paths) -> (items, kinds) | None"},
    {"find_tables", find_tables, METH_VARARGS,
     "find_tables(v, h, snap, join, min_edge, isect) -> tables of cells, or None for odd input"},
    {"chars_to_text", chars_to_text, METH_O, "chars_to_text(chars) -> str"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pdffast", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__pdffast(void)
{
    return PyModule_Create(&module);
}
