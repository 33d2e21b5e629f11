/* nodetls._openssl._bytesio: OpenSSL writes the data path's bytes objects itself.

   cffi cannot return a Python object from C, so the engine's data path (the compiled binding's
   nodetls_read and nodetls_seal) fills a buffer of its own and Python then copies it into a
   bytes object: one extra pass over every byte, each way.  These two functions allocate the
   bytes object first and let OpenSSL write into it, as CPython's own ssl module does
   (_ssl__SSLSocket_read_impl, _ssl_MemoryBIO_read_impl).

   The module links against nothing but CPython: the OpenSSL entry points come as addresses
   from the compiled binding (init()), so it always calls the same libssl as the binding.  It is
   optional (setup.py skips it without a compiler); nodetls/_engine/engine.py uses it only with
   the compiled binding and only for reads and writes large enough for the copy to matter. */

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

static read_fn c_read;
static write_ex_fn c_write_ex;
static pending_fn c_pending;
static bio_read_fn c_bio_read;

static int
as_ptr(PyObject *o, void **p)
{
    *p = PyLong_AsVoidPtr(o);
    return *p == NULL && PyErr_Occurred() ? -1 : 0;
}

/* init(nodetls_read, SSL_write_ex, BIO_ctrl_pending, BIO_read): the functions' addresses. */
static PyObject *
bx_init(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *p[4];
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "init() takes 4 function addresses");
        return NULL;
    }
    for (int i = 0; i < 4; i++) {
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
    Py_RETURN_NONE;
}

/* read(ssl, rbio, wbio, data, n, more, eof, cap, out) -> bytes | None

   nodetls_read into a new bytes object of cap bytes (cap >= 16384), shrunk to the plaintext
   read; None when there was none.  out: the address of an intptr_t[3] that receives the
   plaintext length, the ciphertext waiting in the write BIO, and nodetls_read's status. */
static PyObject *
bx_read(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *ssl, *rbio, *wbio, *data, *outp;
    long n, more, eof;
    Py_ssize_t cap;
    size_t total[2] = {0, 0};
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "read() takes 9 arguments");
        return NULL;
    }
    if (c_read == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "read(): init() was not called");
        return NULL;
    }
    if (as_ptr(args[0], &ssl) < 0 || as_ptr(args[1], &rbio) < 0 || as_ptr(args[2], &wbio) < 0
            || as_ptr(args[3], &data) < 0 || as_ptr(args[8], &outp) < 0)
        return NULL;
    n = PyLong_AsLong(args[4]);
    more = PyObject_IsTrue(args[5]);
    eof = PyObject_IsTrue(args[6]);
    cap = PyLong_AsSsize_t(args[7]);
    if (PyErr_Occurred() || more < 0 || eof < 0)
        return NULL;
    if (ssl == NULL || outp == NULL || n < 0 || n > INT_MAX || cap < 16384) {
        PyErr_SetString(PyExc_ValueError, "read(): bad argument");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, cap);
    if (b == NULL)
        return NULL;
    int st = c_read(ssl, rbio, wbio, (const char *)data, (int)n, (int)more, (int)eof,
                    (unsigned char *)PyBytes_AS_STRING(b), (size_t)cap, total);
    intptr_t *out = (intptr_t *)outp;
    out[0] = (intptr_t)total[0];
    out[1] = (intptr_t)total[1];
    out[2] = st;
    if (total[0] == 0) {
        Py_DECREF(b);
        Py_RETURN_NONE;
    }
    if ((Py_ssize_t)total[0] != cap && _PyBytes_Resize(&b, (Py_ssize_t)total[0]) < 0)
        return NULL;
    return b;
}

/* seal(ssl, wbio, data, out) -> bytes | int

   SSL_write_ex of every byte of data (any object with the buffer protocol), then all of the
   write BIO's ciphertext as one new bytes object.  -1: SSL_write_ex failed (nothing taken;
   OpenSSL's error queue says why); -2: a partial write, out[0] (intptr_t[1]) the bytes taken. */
static PyObject *
bx_seal(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *ssl, *wbio, *outp;
    Py_buffer view;
    size_t written = 0;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "seal() takes 4 arguments");
        return NULL;
    }
    if (c_write_ex == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "seal(): init() was not called");
        return NULL;
    }
    if (as_ptr(args[0], &ssl) < 0 || as_ptr(args[1], &wbio) < 0 || as_ptr(args[3], &outp) < 0)
        return NULL;
    if (ssl == NULL || wbio == NULL || outp == NULL) {
        PyErr_SetString(PyExc_ValueError, "seal(): NULL pointer");
        return NULL;
    }
    if (PyObject_GetBuffer(args[2], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int ok = c_write_ex(ssl, view.buf, (size_t)view.len, &written);
    Py_ssize_t len = view.len;
    PyBuffer_Release(&view);
    if (!ok)
        return PyLong_FromLong(-1);
    if ((Py_ssize_t)written != len) {
        ((intptr_t *)outp)[0] = (intptr_t)written;
        return PyLong_FromLong(-2);
    }
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
     "init(read, write_ex, pending, bio_read): the OpenSSL entry points' addresses."},
    {"read", (PyCFunction)(void (*)(void))bx_read, METH_FASTCALL,
     "read(ssl, rbio, wbio, data, n, more, eof, cap, out) -> bytes | None"},
    {"seal", (PyCFunction)(void (*)(void))bx_seal, METH_FASTCALL,
     "seal(ssl, wbio, data, out) -> bytes | int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bx_module = {
    PyModuleDef_HEAD_INIT, "nodetls._openssl._bytesio",
    "OpenSSL writes the data path's bytes objects itself (see _bytesio.c).", -1, bx_methods,
};

PyMODINIT_FUNC
PyInit__bytesio(void)
{
    return PyModule_Create(&bx_module);
}
