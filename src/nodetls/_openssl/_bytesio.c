/* nodetls._openssl._bytesio: the engine's data path as direct CPython entries.

   The compiled binding's data-path helpers (nodetls_read, nodetls_seal) are cffi functions: each
   call converts every argument from a Python object (about ten pointers and integers), releases
   and retakes the GIL, and returns its results through out-parameters that Python then reads
   element by element; cffi cannot return a Python object either, so Python copies the plaintext
   or ciphertext out of a buffer of its own.  For a small record that bookkeeping costs more than
   the TLS work.  The entries here take the SSL as one integer address (its BIOs come from
   SSL_get_rbio/SSL_get_wbio), the data as a buffer object, and answer with one Python object:

   - read_into: nodetls_read into the caller's buffer, the outcome packed into one int;
   - read_bytes: the same, plaintext alone coming back as a new bytes object;
   - read: nodetls_read straight into a new bytes object (large reads: no copy at all);
   - seal: SSL_write_ex, then the write BIO's ciphertext BIO_read straight into a new bytes
     object, as CPython's own ssl module does (_ssl__SSLSocket_read_impl,
     _ssl_MemoryBIO_read_impl).

   The GIL is released only when there is enough ciphertext or plaintext for the work to take a
   while (GIL_MIN bytes and up): a small record's read or write takes microseconds, less than
   releasing and retaking the GIL.

   The module links against nothing but CPython: the OpenSSL entry points come as addresses
   from the compiled binding (init()), so it always calls the same libssl as the binding.  It is
   optional (setup.py skips it without a compiler); nodetls/_engine/engine.py uses it only with
   the compiled binding. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>

/* int nodetls_read(SSL *, BIO *rbio, BIO *wbio, const char *data, int n, int more, int eof,
                    unsigned char *buf, size_t cap, size_t *total) */
typedef int (*read_fn)(void *, void *, void *, const char *, int, int, int, unsigned char *,
                       size_t, size_t *);
typedef int (*write_ex_fn)(void *, const void *, size_t, size_t *); /* SSL_write_ex */
typedef size_t (*pending_fn)(void *);                               /* BIO_ctrl_pending */
typedef int (*bio_read_fn)(void *, void *, int);                    /* BIO_read */
typedef void *(*get_bio_fn)(const void *);                          /* SSL_get_[rw]bio */

static read_fn c_read;
static write_ex_fn c_write_ex;
static pending_fn c_pending;
static bio_read_fn c_bio_read;
static get_bio_fn c_get_rbio;
static get_bio_fn c_get_wbio;

/* Reads and writes of this many bytes and more release the GIL around OpenSSL's work. */
#define GIL_MIN 8192
/* The packed outcome of read_into/read_bytes: (total << PACK_SHIFT) | ((st + 2) << 1) | out. */
#define PACK_SHIFT 9
#define PACK_ST_MAX 255

#define NARGS 6
/* The module's API version (API): 2 = init with 6 addresses, read_into/read_bytes, read with
   the packed outcome, seal(ssl, data). */
#define BYTESIO_API 2

static int
as_ptr(PyObject *o, void **p)
{
    *p = PyLong_AsVoidPtr(o);
    return *p == NULL && PyErr_Occurred() ? -1 : 0;
}

/* init(nodetls_read, SSL_write_ex, BIO_ctrl_pending, BIO_read, SSL_get_rbio, SSL_get_wbio):
   the functions' addresses. */
static PyObject *
bx_init(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *p[NARGS];
    if (nargs != NARGS) {
        PyErr_SetString(PyExc_TypeError, "init() takes 6 function addresses");
        return NULL;
    }
    for (int i = 0; i < NARGS; i++) {
        if (as_ptr(args[i], &p[i]) < 0)
            return NULL;
        if (p[i] == NULL) {
            PyErr_SetString(PyExc_ValueError, "init(): a NULL function address");
            return NULL;
        }
    }
    c_read = (read_fn)p[0];
    c_write_ex = (write_ex_fn)p[1];
    c_pending = (pending_fn)p[2];
    c_bio_read = (bio_read_fn)p[3];
    c_get_rbio = (get_bio_fn)p[4];
    c_get_wbio = (get_bio_fn)p[5];
    Py_RETURN_NONE;
}

/* The ciphertext argument of the reads: None (nothing new), an int (the address of n bytes:
   the caller vouches for them) or an object with the buffer protocol (its first n bytes, or all
   of it for n -1; n may not exceed its length).  view->obj is set only when a buffer was taken
   (release it). */
static int
get_data(PyObject *data, PyObject *nobj, Py_buffer *view, const char **p, long *n)
{
    view->obj = NULL;
    *n = PyLong_AsLong(nobj);
    if (*n == -1 && PyErr_Occurred())
        return -1;
    if (*n < -1 || *n > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "read: bad length");
        return -1;
    }
    if (data == Py_None) {
        *p = NULL;
        *n = 0;
        return 0;
    }
    if (PyLong_Check(data)) {
        if (as_ptr(data, (void **)p) < 0)
            return -1;
        if (*n < 0 || (*p == NULL && *n)) {
            PyErr_SetString(PyExc_ValueError, "read: NULL data or no length");
            return -1;
        }
        return 0;
    }
    if (PyObject_GetBuffer(data, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (*n == -1)
        *n = view->len;
    if (*n > view->len || *n > INT_MAX) {
        PyBuffer_Release(view);
        view->obj = NULL;
        PyErr_SetString(PyExc_ValueError, "read: length past the buffer");
        return -1;
    }
    *p = (const char *)view->buf;
    return 0;
}

/* nodetls_read of ssl's BIOs (the GIL released for GIL_MIN bytes of new ciphertext and up, or
   when more may be waiting from a previous call: a full buffer's worth of records). */
static int
run_read(void *ssl, const char *data, long n, int more, int eof, unsigned char *buf, size_t cap,
         size_t *total)
{
    void *rbio = c_get_rbio(ssl), *wbio = c_get_wbio(ssl);
    int st;
    if (n >= GIL_MIN || more) {
        Py_BEGIN_ALLOW_THREADS
        st = c_read(ssl, rbio, wbio, data, (int)n, more, eof, buf, cap, total);
        Py_END_ALLOW_THREADS
    } else {
        st = c_read(ssl, rbio, wbio, data, (int)n, more, eof, buf, cap, total);
    }
    return st;
}

static PyObject *
pack(size_t total, int st, size_t out)
{
    long code = (long)st + 2;
    if (code < 0 || code > PACK_ST_MAX)
        code = PACK_ST_MAX; /* (no SSL_get_error() value is this large) */
    return PyLong_FromSize_t((total << PACK_SHIFT) | ((size_t)code << 1) | (out != 0));
}

/* The arguments every read shares, (ssl, data, n, more, eof, ..., cap): all but data and n
   (get_data's), checked.  nargs must be want; cap (the last) at least a record's 16384. */
typedef struct {
    void *ssl;
    int more, eof;
    Py_ssize_t cap;
} read_args;

static int
parse_read(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want, const char *name,
           read_args *ra)
{
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments", name, want);
        return -1;
    }
    if (c_read == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s(): init() was not called", name);
        return -1;
    }
    ra->more = PyObject_IsTrue(args[3]);
    ra->eof = PyObject_IsTrue(args[4]);
    if (ra->more < 0 || ra->eof < 0 || as_ptr(args[0], &ra->ssl) < 0)
        return -1;
    ra->cap = PyLong_AsSsize_t(args[want - 1]);
    if (ra->cap == -1 && PyErr_Occurred())
        return -1;
    if (ra->ssl == NULL || ra->cap < 16384) {
        PyErr_Format(PyExc_ValueError, "%s(): NULL SSL or a buffer smaller than a record", name);
        return -1;
    }
    return 0;
}

/* read_into(ssl, data, n, more, eof, buf, cap) / read_bytes(same) -> int | bytes

   nodetls_read (data and n: see get_data) into buf (an address: cap >= 16384 bytes the caller owns).
   The outcome as one int, (total << 9) | ((st + 2) << 1) | out: total the plaintext bytes in
   buf, st nodetls_read's status (-2 .. 253), out 1 when ciphertext waits in the write BIO.
   read_bytes answers with a new bytes object of the plaintext instead when it is all there is
   (some plaintext, st 0, out 0). */
static PyObject *
read_common(PyObject *const *args, Py_ssize_t nargs, const char *name, int as_bytes)
{
    read_args ra;
    void *bufp;
    const char *data;
    long n;
    Py_buffer view;
    size_t total[2] = {0, 0};
    if (parse_read(args, nargs, 7, name, &ra) < 0 || as_ptr(args[5], &bufp) < 0)
        return NULL;
    if (bufp == NULL) {
        PyErr_Format(PyExc_ValueError, "%s(): NULL buffer", name);
        return NULL;
    }
    if (get_data(args[1], args[2], &view, &data, &n) < 0)
        return NULL;
    int st = run_read(ra.ssl, data, n, ra.more, ra.eof, (unsigned char *)bufp, (size_t)ra.cap,
                      total);
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    if (as_bytes && total[0] && st == 0 && !total[1])
        return PyBytes_FromStringAndSize((const char *)bufp, (Py_ssize_t)total[0]);
    return pack(total[0], st, total[1]);
}

static PyObject *
bx_read_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return read_common(args, nargs, "read_into", 0);
}

static PyObject *
bx_read_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return read_common(args, nargs, "read_bytes", 1);
}

/* read(ssl, data, n, more, eof, cap) -> (bytes | None, int)

   nodetls_read (data: see get_data) into a new bytes object of cap bytes (cap >= 16384), shrunk
   to the plaintext read (None when there was none), and the outcome packed as read_into's (its
   total: the plaintext's length). */
static PyObject *
bx_read(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    read_args ra;
    const char *data;
    long n;
    Py_buffer view;
    size_t total[2] = {0, 0};
    if (parse_read(args, nargs, 6, "read", &ra) < 0)
        return NULL;
    Py_ssize_t cap = ra.cap;
    PyObject *b = PyBytes_FromStringAndSize(NULL, cap);
    if (b == NULL)
        return NULL;
    if (get_data(args[1], args[2], &view, &data, &n) < 0) {
        Py_DECREF(b);
        return NULL;
    }
    int st = run_read(ra.ssl, data, n, ra.more, ra.eof, (unsigned char *)PyBytes_AS_STRING(b),
                      (size_t)cap, total);
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    if (total[0] == 0) {
        Py_DECREF(b);
        b = Py_NewRef(Py_None);
    } else if ((Py_ssize_t)total[0] != cap && _PyBytes_Resize(&b, (Py_ssize_t)total[0]) < 0) {
        return NULL;
    }
    PyObject *code = pack(total[0], st, total[1]);
    if (code == NULL) {
        Py_DECREF(b);
        return NULL;
    }
    PyObject *r = PyTuple_Pack(2, b, code);
    Py_DECREF(b);
    Py_DECREF(code);
    return r;
}

/* seal(ssl, data) -> bytes | int

   SSL_write_ex of every byte of data (any object with the buffer protocol), then all of the
   write BIO's ciphertext as one new bytes object.  -1: SSL_write_ex failed (nothing taken;
   OpenSSL's error queue says why); a positive int: a partial write, the bytes taken (the
   ciphertext stays in the write BIO). */
static PyObject *
bx_seal(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *ssl, *wbio;
    Py_buffer view;
    size_t written = 0;
    int ok;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "seal() takes 2 arguments");
        return NULL;
    }
    if (c_write_ex == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "seal(): init() was not called");
        return NULL;
    }
    if (as_ptr(args[0], &ssl) < 0)
        return NULL;
    if (ssl == NULL) {
        PyErr_SetString(PyExc_ValueError, "seal(): NULL pointer");
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    wbio = c_get_wbio(ssl);
    if (view.len >= GIL_MIN) {
        Py_BEGIN_ALLOW_THREADS
        ok = c_write_ex(ssl, view.buf, (size_t)view.len, &written);
        Py_END_ALLOW_THREADS
    } else {
        ok = c_write_ex(ssl, view.buf, (size_t)view.len, &written);
    }
    Py_ssize_t len = view.len;
    PyBuffer_Release(&view);
    if (!ok)
        return PyLong_FromLong(-1);
    if ((Py_ssize_t)written != len)
        return PyLong_FromSize_t(written);
    size_t pending = c_pending(wbio);
    if (pending > INT_MAX)
        pending = INT_MAX; /* the rest stays in the BIO: the caller takes it as usual */
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)pending);
    if (b == NULL || pending == 0)
        return b;
    int got = c_bio_read(wbio, PyBytes_AS_STRING(b), (int)pending);
    if (got < 0)
        got = 0;
    if ((size_t)got != pending && _PyBytes_Resize(&b, got) < 0)
        return NULL;
    return b;
}

static PyMethodDef bx_methods[] = {
    {"init", (PyCFunction)(void (*)(void))bx_init, METH_FASTCALL,
     "init(read, write_ex, pending, bio_read, get_rbio, get_wbio): OpenSSL's entry points."},
    {"read_into", (PyCFunction)(void (*)(void))bx_read_into, METH_FASTCALL,
     "read_into(ssl, data, n, more, eof, buf, cap) -> int (the packed outcome)"},
    {"read_bytes", (PyCFunction)(void (*)(void))bx_read_bytes, METH_FASTCALL,
     "read_bytes(ssl, data, n, more, eof, buf, cap) -> bytes | int (the packed outcome)"},
    {"read", (PyCFunction)(void (*)(void))bx_read, METH_FASTCALL,
     "read(ssl, data, n, more, eof, cap) -> (bytes | None, int)"},
    {"seal", (PyCFunction)(void (*)(void))bx_seal, METH_FASTCALL,
     "seal(ssl, data) -> bytes | int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bx_module = {
    PyModuleDef_HEAD_INIT, "nodetls._openssl._bytesio",
    "The engine's data path as direct CPython entries (see _bytesio.c).", -1, bx_methods,
};

PyMODINIT_FUNC
PyInit__bytesio(void)
{
    PyObject *m = PyModule_Create(&bx_module);
    /* The entries' version: _engine/_bytesio.py uses only the one it was written for (a build
       older than the sources, an editable install not rebuilt yet, is left alone). */
    if (m != NULL && PyModule_AddIntConstant(m, "API", BYTESIO_API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
