/* nodetls._net._fastpath: net.Socket's per-message methods as C method descriptors.

   Every record a socket receives goes through Socket._on_handle_read and every message it sends
   through Socket.write.  On their data paths both do little (a dozen tests of the stream's
   state, a byte count, the 'data' listeners or the handle's write), but CPython 3.11 runs each
   of those steps as a bytecode of about 40 machine instructions: counted with callgrind, the
   two functions are ~3,100 and ~2,400 instructions per call, a sixth of a TLS client's whole
   round trip.  Here the same steps read the stream's slots directly (their offsets come from
   the classes' own member descriptors, given by fastpath.py's install() at import).

   Each method takes its data path only when every condition of the Python method's data path
   holds, read without side effects from the slots (values of the exact kinds the stream
   stores: True/False, None, ints, floats); in every other case, before changing anything, it
   calls the Python method itself (socket.py defines it, as the reference and the fallback; it is
   also what runs without this module, or with NODETLS_PURE=1).  On the data path the steps
   and their order are the Python method's, including what a listener may change meanwhile:
   the state is read again after every call out.

   The same file serves a TLS socket's write completion (TLSSocket._tls_write_done and
   _tls_write_settle, whose Python references are _tls/write_completion.py's write_done and
   write_settle) and Socket.write's branch for a handle that completes the write later
   (_write_tail's `not taken` case: every write a TLS socket makes): callgrind counted the three
   Python functions at ~3,200 of a TLS client's ~36,800 user-space instructions per 64-byte round
   trip.

   A class is served only while its attribute lookups resolve every slot used here to the
   descriptor of Duplex/Socket (and, for reads, _emit1 to EventEmitter's): decided by
   fastpath.py's eligible() once per class and remembered with the class's version
   tag, which CPython changes whenever the class or one of its bases is modified. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* The slots read or written here, in the order of the descriptors given to setup(). */
enum {
    S_BYTES_READ, S_TIMEOUT, S_R_FLOWING, S_R_DATA_LISTENING, S_R_LEN, S_R_SYNC, S_R_DECODER,
    S_R_ENDED, S_DESTROYED, S_ERRORED, S_R_READING, S_R_DATA_EMITTED, S_EVENTS, S_R_HWM,
    S_HANDLE, S_BYTES_DISPATCHED, S_W_WRITING, S_W_CORKED, S_W_ENDING, S_W_NEED_DRAIN, S_W_LEN,
    S_CONNECTING, S_W_BUF, S_W_PENDING_CB, S_W_WRITE_LEN, S_W_SYNC, S_PENDING_WRITE_CB, S_W_HWM,
    S_W_CB, S_W_AFTER_WRITE_PENDING,
    N_SLOTS
};

#define F_READ 1  /* the class may take the read data path here */
#define F_WRITE 2 /* the class may take the write data path here */
#define N_CACHE 8

/* A type's tp_version_tag is valid: non-zero (CPython 3.13 no longer sets
   Py_TPFLAGS_VALID_VERSION_TAG, and a zero tag is never valid; up to 3.12 the flag says it). */
static inline int
tag_valid(PyTypeObject *tp)
{
#if PY_VERSION_HEX < 0x030D0000
    if (!PyType_HasFeature(tp, Py_TPFLAGS_VALID_VERSION_TAG))
        return 0;
#endif
    return tp->tp_version_tag != 0;
}

typedef struct {
    PyTypeObject *type; /* a strong reference */
    unsigned int tag;   /* its tp_version_tag when decided */
    int flags;
} cache_entry;

static Py_ssize_t offsets[N_SLOTS];
static int ready;
static PyObject *py_read;      /* Socket._on_handle_read, the Python reference */
static PyObject *py_write;     /* Socket.write */
static PyObject *eligible;     /* eligible(cls) -> int flags */
static PyObject *iscoroutine;  /* asyncio.iscoroutine */
static PyObject *py_done;      /* write_completion.write_done, the Python reference */
static PyObject *py_settle;    /* write_completion.write_settle */
static PyObject *onwrite;      /* Writable._on_write_done, the function */
static PyTypeObject *deque_type; /* collections.deque (the Writable's buffer) */
static PyObject *str_data, *str_write, *str_listener_raised, *str_schedule,
    *str_read_stop_handle, *str_write_tail, *str_on_write_done;
static PyObject *zero, *one;
static cache_entry cache[N_CACHE];
static int cache_next;

#define SLOT(o, i) (*(PyObject **)((char *)(o) + offsets[i]))

/* A slot's new value: takes the reference to v. */
static inline void
set_slot(PyObject *o, int i, PyObject *v)
{
    PyObject **p = (PyObject **)((char *)o + offsets[i]);
    PyObject *old = *p;
    *p = v;
    Py_XDECREF(old);
}

/* Falsy without a call: False, None, an int 0, a float 0.0 (what the stream stores). */
static inline int
plain_false(PyObject *v)
{
    if (v == Py_False || v == Py_None)
        return 1;
    if (v == zero)
        return 1; /* (CPython's ints equal to 0 are all this one object) */
    if (PyFloat_CheckExact(v))
        return PyFloat_AS_DOUBLE(v) == 0.0;
    return 0;
}

/* This class's flags (F_READ | F_WRITE), from the cache or decided by eligible(cls). */
static int
type_flags(PyTypeObject *tp)
{
    for (int i = 0; i < N_CACHE; i++) {
        if (cache[i].type == tp) {
            if (tag_valid(tp) && tp->tp_version_tag == cache[i].tag)
                return cache[i].flags;
            break;
        }
    }
    PyObject *r = PyObject_CallOneArg(eligible, (PyObject *)tp);
    if (r == NULL)
        return -1;
    long flags = PyLong_AsLong(r);
    Py_DECREF(r);
    if (flags == -1 && PyErr_Occurred())
        return -1;
    /* The class's version tag, which eligible()'s lookups may not have given it (none once
       CPython's tags run out: then nothing is remembered and each call decides again). */
#if PY_VERSION_HEX >= 0x030C0000
    (void)PyUnstable_Type_AssignVersionTag(tp);
#else
    /* (a class attribute lookup assigns it: _PyType_Lookup) */
    PyObject *probe = PyObject_GetAttrString((PyObject *)tp, "_nodetls_version_tag_probe");
    if (probe == NULL)
        PyErr_Clear();
    else
        Py_DECREF(probe);
#endif
    if (!tag_valid(tp))
        return (int)flags;
    int slot = -1;
    for (int i = 0; i < N_CACHE; i++) {
        if (cache[i].type == tp) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        slot = cache_next;
        cache_next = (cache_next + 1) % N_CACHE;
        Py_XDECREF(cache[slot].type);
        Py_INCREF(tp);
        cache[slot].type = tp;
    }
    cache[slot].tag = tp->tp_version_tag;
    cache[slot].flags = (int)flags;
    return (int)flags;
}

/* self's class may take the data path `flag` (0: no, 1: yes, -1: an error). */
static inline int
served(PyObject *self, int flag)
{
    if (!ready)
        return 0;
    int f = type_flags(Py_TYPE(self));
    return f < 0 ? -1 : (f & flag) != 0;
}

/* A slot's value for a test after a call out: the slot, or the attribute (which raises the
   AttributeError the Python method would, for a slot deleted meanwhile). New reference. */
static PyObject *
reread(PyObject *self, int i, const char *name)
{
    PyObject *v = SLOT(self, i);
    if (v != NULL) {
        Py_INCREF(v);
        return v;
    }
    return PyObject_GetAttrString(self, name);
}

/* Python's `not self.<slot>` after a call out: 1, 0, or -1 (an error). */
static int
reread_false(PyObject *self, int i, const char *name)
{
    PyObject *v = reread(self, i, name);
    if (v == NULL)
        return -1;
    int t = PyObject_IsTrue(v);
    Py_DECREF(v);
    return t < 0 ? -1 : !t;
}

/* Python's `self.<slot> is None` after a call out: 1, 0, or -1 (an error). */
static int
reread_none(PyObject *self, int i, const char *name)
{
    PyObject *v = reread(self, i, name);
    if (v == NULL)
        return -1;
    int none = v == Py_None;
    Py_DECREF(v);
    return none;
}

/* The Python method itself, with the call's own arguments. */
static PyObject *
fallback(PyObject *fn, PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *small[8];
    PyObject **all = small;
    if (nargs + nkw + 1 > 8) {
        all = PyMem_Malloc((nargs + nkw + 1) * sizeof(PyObject *));
        if (all == NULL)
            return PyErr_NoMemory();
    }
    all[0] = self;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++)
        all[i + 1] = args[i];
    PyObject *r = PyObject_Vectorcall(fn, all, (size_t)(nargs + 1), kwnames);
    if (all != small)
        PyMem_Free(all);
    return r;
}

/* Python's `except Exception as exc: r = self._listener_raised("data", fn, (chunk,), exc)`,
   entered with the listener's exception set. NULL: an exception to propagate. */
static PyObject *
listener_raised(PyObject *self, PyObject *fn, PyObject *chunk)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return NULL; /* a BaseException: it propagates, as from the Python method */
    /* The traceback as Python's except block sees it: an entry for the frame that called
       (the Python method's own), then fn's frames, if the call got into fn at all (what
       EventEmitter's retry without the argument looks at; a current frame is certain: see
       sock_read). */
    PyFrameObject *frame = PyEval_GetFrame();
    if (frame != NULL)
        PyTraceBack_Here(frame);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    PyObject *args = PyTuple_Pack(1, chunk);
    PyObject *r = NULL;
    if (args != NULL) {
        /* As in the except block: `exc` is the exception being handled (the context of any
           raised in _listener_raised) */
        PyObject *outer = PyErr_GetHandledException();
        PyErr_SetHandledException(value);
        r = PyObject_CallMethodObjArgs(self, str_listener_raised, str_data, fn, args, value,
                                       NULL);
        PyErr_SetHandledException(outer);
        Py_XDECREF(outer);
        Py_DECREF(args);
    }
    Py_DECREF(value);
    return r;
}

/* Socket._on_handle_read(view): the flowing case (Node's addChunk: straight to 'data'). */
static PyObject *
sock_read(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL)
        return fallback(py_read, self, args, nargsf, kwnames);
    PyObject *view = args[0];
    /* view = bytes(view): the one copy of the data (bytes are kept as they are); made first,
       as it changes nothing the Python method could see */
    PyObject *chunk;
    if (PyBytes_CheckExact(view)) {
        chunk = Py_NewRef(view);
    } else if (PyMemoryView_Check(view)) {
        Py_buffer b;
        if (PyObject_GetBuffer(view, &b, PyBUF_FULL_RO) < 0) { /* released: Python's error */
            PyErr_Clear();
            return fallback(py_read, self, args, nargsf, kwnames);
        }
        chunk = NULL;
        if (b.ndim == 1 && b.itemsize == 1 && PyBuffer_IsContiguous(&b, 'C'))
            chunk = PyBytes_FromStringAndSize(b.buf, b.len);
        PyBuffer_Release(&b);
        if (chunk == NULL) {
            if (PyErr_Occurred())
                return NULL;
            return fallback(py_read, self, args, nargsf, kwnames);
        }
    } else {
        return fallback(py_read, self, args, nargsf, kwnames);
    }
    Py_ssize_t n = PyBytes_GET_SIZE(chunk);
    int ok = served(self, F_READ);
    if (ok < 0) {
        Py_DECREF(chunk);
        return NULL;
    }
    PyObject *br = SLOT(self, S_BYTES_READ), *timeout = SLOT(self, S_TIMEOUT),
             *flowing = SLOT(self, S_R_FLOWING), *listening = SLOT(self, S_R_DATA_LISTENING),
             *rlen = SLOT(self, S_R_LEN), *rsync = SLOT(self, S_R_SYNC),
             *decoder = SLOT(self, S_R_DECODER), *ended = SLOT(self, S_R_ENDED),
             *destroyed = SLOT(self, S_DESTROYED), *errored = SLOT(self, S_ERRORED),
             *events = SLOT(self, S_EVENTS);
    /* (no Python frame on the stack: called from C alone, as only a thread started in C
       would; the Python method then, so that a listener's error has a frame to start at) */
    if (!ok || n == 0 || PyEval_GetFrame() == NULL || br == NULL || !PyLong_CheckExact(br) || timeout == NULL
        || !plain_false(timeout) || flowing != Py_True || listening != Py_True || rlen == NULL
        || !plain_false(rlen) || rsync == NULL || !plain_false(rsync) || decoder != Py_None
        || ended == NULL || !plain_false(ended) || destroyed == NULL || !plain_false(destroyed)
        || errored != Py_None || events == NULL || !PyDict_CheckExact(events)
        || SLOT(self, S_R_READING) == NULL || SLOT(self, S_R_DATA_EMITTED) == NULL) {
        Py_DECREF(chunk);
        return fallback(py_read, self, args, nargsf, kwnames);
    }

    /* self._bytes_read += len(view) */
    PyObject *count = PyLong_FromSsize_t(n);
    PyObject *sum = count == NULL ? NULL : PyNumber_Add(br, count);
    Py_XDECREF(count);
    if (sum == NULL)
        goto fail;
    set_slot(self, S_BYTES_READ, sum);
    set_slot(self, S_R_READING, Py_NewRef(Py_False));
    set_slot(self, S_R_DATA_EMITTED, Py_NewRef(Py_True));

    /* for fn in self._events.get("data", ()): each listener in order; one that raises
       goes to _listener_raised; a coroutine returned is scheduled */
    PyObject *handlers = PyDict_GetItemWithError(events, str_data);
    if (handlers == NULL) {
        if (PyErr_Occurred())
            goto fail;
    } else {
        PyObject *it = PyObject_GetIter(handlers);
        if (it == NULL)
            goto fail;
        PyObject *fn;
        while ((fn = PyIter_Next(it)) != NULL) {
            PyObject *argv[2] = {NULL, chunk};
            PyObject *r = PyObject_Vectorcall(fn, argv + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                              NULL);
            if (r == NULL)
                r = listener_raised(self, fn, chunk);
            if (r == NULL) {
                Py_DECREF(fn);
                Py_DECREF(it);
                goto fail;
            }
            if (r != Py_None) {
                PyObject *is = PyObject_CallOneArg(iscoroutine, r);
                int co = is == NULL ? -1 : PyObject_IsTrue(is);
                Py_XDECREF(is);
                if (co > 0) {
                    PyObject *a = PyTuple_Pack(1, chunk);
                    PyObject *s = a == NULL ? NULL : PyObject_CallMethodObjArgs(
                        self, str_schedule, str_data, r, a, NULL);
                    Py_XDECREF(a);
                    if (s == NULL)
                        co = -1;
                    Py_XDECREF(s);
                }
                if (co < 0) {
                    Py_DECREF(r);
                    Py_DECREF(fn);
                    Py_DECREF(it);
                    goto fail;
                }
            }
            Py_DECREF(r);
            Py_DECREF(fn);
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            goto fail;
    }
    Py_DECREF(chunk);

    /* if self._r_ended or (self._r_len and self._r_len >= self._r_hwm): stop reading */
    int not_ended = reread_false(self, S_R_ENDED, "_r_ended");
    if (not_ended < 0)
        return NULL;
    int stop = !not_ended;
    if (stop == 0) {
        PyObject *len = reread(self, S_R_LEN, "_r_len");
        if (len == NULL)
            return NULL;
        stop = PyObject_IsTrue(len);
        if (stop > 0) {
            PyObject *hwm = reread(self, S_R_HWM, "_r_hwm");
            stop = hwm == NULL ? -1 : PyObject_RichCompareBool(len, hwm, Py_GE);
            Py_XDECREF(hwm);
        }
        Py_DECREF(len);
    }
    if (stop < 0)
        return NULL;
    if (stop)
        return PyObject_CallMethodNoArgs(self, str_read_stop_handle);
    Py_RETURN_NONE;

fail:
    Py_DECREF(chunk);
    return NULL;
}

/* Socket._write_tail(n, False): the handle kept the chunk of n bytes to complete the write
   later (a TLS socket's handle does: _tls/write_completion.py); its completion is the Writable's
   onwrite, handed over as _pending_write_cb.  The slots are read after the handle's write (a call
   out); one of a kind not expected here, and _write_tail itself runs. */
static PyObject *
write_later(PyObject *self, PyObject *count)
{
    PyObject *pending = SLOT(self, S_W_PENDING_CB);
    if (pending == NULL || !PyLong_CheckExact(pending))
        return PyObject_CallMethodObjArgs(self, str_write_tail, count, Py_False, NULL);
    PyObject *inc = PyNumber_Add(pending, one);
    if (inc == NULL)
        return NULL;
    set_slot(self, S_W_PENDING_CB, inc);
    set_slot(self, S_W_WRITE_LEN, Py_NewRef(count));
    set_slot(self, S_W_SYNC, Py_NewRef(Py_False)); /* (its callback comes from the handle) */
    PyObject *cb = PyObject_GetAttr(self, str_on_write_done);
    if (cb == NULL)
        return NULL;
    set_slot(self, S_PENDING_WRITE_CB, cb);
    /* if self._w_len < self._w_hwm: return not self._destroyed and self._errored is None */
    PyObject *len = reread(self, S_W_LEN, "_w_len");
    if (len == NULL)
        return NULL;
    PyObject *hwm = reread(self, S_W_HWM, "_w_hwm");
    if (hwm == NULL) {
        Py_DECREF(len);
        return NULL;
    }
    int below = PyObject_RichCompareBool(len, hwm, Py_LT);
    Py_DECREF(len);
    Py_DECREF(hwm);
    if (below < 0)
        return NULL;
    if (below) {
        int ok = reread_false(self, S_DESTROYED, "_destroyed");
        if (ok == 1)
            ok = reread_none(self, S_ERRORED, "_errored");
        if (ok < 0)
            return NULL;
        return PyBool_FromLong(ok);
    }
    set_slot(self, S_W_NEED_DRAIN, Py_NewRef(Py_True));
    Py_RETURN_FALSE;
}

/* write_completion.write_settle's usual case, tested: the write in flight completes with the
   Writable's onwrite (_pending_write_cb, a bound method of Writable._on_write_done), no callback
   of the user's, nothing buffered meanwhile, no 'drain' due, not ending, not destroyed, no
   afterWrite queued.  1: it is, and its state changes are made (the completion is over); 0: it is
   not (nothing changed); 2: a slot holds a value of a kind not expected here (nothing changed:
   the Python function decides); -1: an error. */
static int
settle_usual(PyObject *self, PyObject *cb)
{
    if (!Py_IS_TYPE(cb, &PyMethod_Type) || PyMethod_GET_FUNCTION(cb) != onwrite)
        return 0;
    PyObject *writing = SLOT(self, S_W_WRITING), *wcb = SLOT(self, S_W_CB),
             *buf = SLOT(self, S_W_BUF), *drain = SLOT(self, S_W_NEED_DRAIN),
             *ending = SLOT(self, S_W_ENDING), *destroyed = SLOT(self, S_DESTROYED),
             *aw = SLOT(self, S_W_AFTER_WRITE_PENDING), *len = SLOT(self, S_W_LEN),
             *wlen = SLOT(self, S_W_WRITE_LEN), *pending = SLOT(self, S_W_PENDING_CB);
    if (writing == NULL || (writing != Py_True && writing != Py_False) || wcb == NULL
        || buf == NULL || (!PyTuple_CheckExact(buf) && !Py_IS_TYPE(buf, deque_type))
        || drain == NULL || (drain != Py_True && drain != Py_False) || ending == NULL
        || (ending != Py_True && ending != Py_False) || destroyed == NULL
        || (destroyed != Py_True && destroyed != Py_False) || aw == NULL
        || (aw != Py_True && aw != Py_False) || len == NULL || !PyLong_CheckExact(len)
        || wlen == NULL || !PyLong_CheckExact(wlen) || pending == NULL
        || !PyLong_CheckExact(pending))
        return 2;
    if (writing != Py_True || wcb != Py_None || Py_SIZE(buf) != 0 || drain != Py_False
        || ending != Py_False || destroyed != Py_False || aw != Py_False)
        return 0;
    PyObject *left = PyNumber_Subtract(len, wlen);
    if (left == NULL)
        return -1;
    PyObject *dec = PyNumber_Subtract(pending, one);
    if (dec == NULL) {
        Py_DECREF(left);
        return -1;
    }
    set_slot(self, S_PENDING_WRITE_CB, Py_NewRef(Py_None));
    set_slot(self, S_W_WRITING, Py_NewRef(Py_False));
    set_slot(self, S_W_LEN, left);
    set_slot(self, S_W_WRITE_LEN, Py_NewRef(zero));
    set_slot(self, S_W_PENDING_CB, dec);
    return 1;
}

/* TLSSocket._tls_write_done(): write_completion.write_done (read it), for a class served here. */
static PyObject *
sock_write_done(PyObject *self, PyObject *unused)
{
    int ok = served(self, F_WRITE);
    if (ok < 0)
        return NULL;
    PyObject *cb = ok ? SLOT(self, S_PENDING_WRITE_CB) : NULL;
    if (cb == NULL)
        return PyObject_CallOneArg(py_done, self);
    if (cb == Py_None)
        Py_RETURN_NONE;
    Py_INCREF(cb);
    int usual = settle_usual(self, cb);
    if (usual == 0) {
        /* sock._pending_write_cb = None; cb() */
        set_slot(self, S_PENDING_WRITE_CB, Py_NewRef(Py_None));
        PyObject *r = PyObject_CallNoArgs(cb);
        Py_DECREF(cb);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    Py_DECREF(cb);
    if (usual < 0)
        return NULL;
    if (usual == 2)
        return PyObject_CallOneArg(py_done, self);
    Py_RETURN_NONE;
}

/* TLSSocket._tls_write_settle(): write_completion.write_settle (read it), for a class served
   here. */
static PyObject *
sock_write_settle(PyObject *self, PyObject *unused)
{
    int ok = served(self, F_WRITE);
    if (ok < 0)
        return NULL;
    PyObject *cb = ok ? SLOT(self, S_PENDING_WRITE_CB) : NULL;
    if (cb == NULL)
        return PyObject_CallOneArg(py_settle, self);
    if (cb == Py_None) {
        /* return not sock._w_writing */
        int idle = reread_false(self, S_W_WRITING, "_w_writing");
        return idle < 0 ? NULL : PyBool_FromLong(idle);
    }
    Py_INCREF(cb);
    int usual = settle_usual(self, cb);
    Py_DECREF(cb);
    if (usual < 0)
        return NULL;
    if (usual == 2)
        return PyObject_CallOneArg(py_settle, self);
    return PyBool_FromLong(usual);
}

/* Socket.write(data): bytes straight to the handle, nothing queued, no callback, no timer. */
static PyObject *
sock_write(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL || !PyBytes_CheckExact(args[0])
        || PyBytes_GET_SIZE(args[0]) == 0)
        return fallback(py_write, self, args, nargsf, kwnames);
    int ok = served(self, F_WRITE);
    if (ok < 0)
        return NULL;
    PyObject *data = args[0];
    PyObject *h = SLOT(self, S_HANDLE), *sent = SLOT(self, S_BYTES_DISPATCHED),
             *writing = SLOT(self, S_W_WRITING), *corked = SLOT(self, S_W_CORKED),
             *ending = SLOT(self, S_W_ENDING), *need_drain = SLOT(self, S_W_NEED_DRAIN),
             *wlen = SLOT(self, S_W_LEN), *destroyed = SLOT(self, S_DESTROYED),
             *errored = SLOT(self, S_ERRORED), *connecting = SLOT(self, S_CONNECTING),
             *timeout = SLOT(self, S_TIMEOUT);
    if (!ok || h == NULL || h == Py_None || sent == NULL || !PyLong_CheckExact(sent)
        || writing == NULL || !plain_false(writing) || corked == NULL || !plain_false(corked)
        || ending == NULL || !plain_false(ending) || need_drain == NULL
        || !plain_false(need_drain) || wlen == NULL || !plain_false(wlen) || destroyed == NULL
        || !plain_false(destroyed) || errored != Py_None || connecting == NULL
        || !plain_false(connecting) || timeout == NULL || !plain_false(timeout))
        return fallback(py_write, self, args, nargsf, kwnames);

    Py_ssize_t n = PyBytes_GET_SIZE(data);
    PyObject *count = PyLong_FromSsize_t(n);
    if (count == NULL)
        return NULL;
    PyObject *sum = PyNumber_Add(sent, count);
    if (sum == NULL) {
        Py_DECREF(count);
        return NULL;
    }
    set_slot(self, S_BYTES_DISPATCHED, sum);
    /* As Writable.write: the chunk is being written while the handle has it */
    set_slot(self, S_W_LEN, Py_NewRef(count));
    set_slot(self, S_W_WRITING, Py_NewRef(Py_True));
    Py_INCREF(h);
    PyObject *argv[3] = {NULL, h, data};
    PyObject *res = PyObject_VectorcallMethod(str_write, argv + 1,
                                              2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(h);
    if (res == NULL) {
        Py_DECREF(count);
        return NULL;
    }
    int taken = PyObject_IsTrue(res);
    Py_DECREF(res);
    if (taken < 0) {
        Py_DECREF(count);
        return NULL;
    }
    if (taken) {
        /* taken and not self._w_buf and not self._destroyed and self._errored is None and
           not self._w_ending: Writable's onwrite, synchronous, nothing buffered, no 'drain' */
        int quick = reread_false(self, S_W_BUF, "_w_buf");
        if (quick == 1)
            quick = reread_false(self, S_DESTROYED, "_destroyed");
        if (quick == 1)
            quick = reread_none(self, S_ERRORED, "_errored");
        if (quick == 1)
            quick = reread_false(self, S_W_ENDING, "_w_ending");
        if (quick < 0) {
            Py_DECREF(count);
            return NULL;
        }
        if (quick) {
            Py_DECREF(count);
            set_slot(self, S_W_WRITING, Py_NewRef(Py_False));
            set_slot(self, S_W_LEN, Py_NewRef(zero));
            Py_RETURN_TRUE;
        }
    }
    /* The rest of Writable's onwrite: Socket._write_tail(n, taken) */
    PyObject *r = taken ? PyObject_CallMethodObjArgs(self, str_write_tail, count, Py_True, NULL)
                        : write_later(self, count);
    Py_DECREF(count);
    return r;
}

static PyMethodDef read_def = {"_on_handle_read", (PyCFunction)(void (*)(void))sock_read,
                               METH_FASTCALL | METH_KEYWORDS, NULL};
static PyMethodDef write_def = {"write", (PyCFunction)(void (*)(void))sock_write,
                                METH_FASTCALL | METH_KEYWORDS, NULL};
static PyMethodDef done_def = {"_tls_write_done", (PyCFunction)sock_write_done, METH_NOARGS,
                               NULL};
static PyMethodDef settle_def = {"_tls_write_settle", (PyCFunction)sock_write_settle,
                                 METH_NOARGS, NULL};
static PyObject *docs; /* keeps the methods' doc strings (ml_doc points into them) */

/* setup(descriptors, py_read, py_write, eligible, iscoroutine): the slots' member
   descriptors in the enum's order, the two Python methods, the eligibility function. */
static PyObject *
setup(PyObject *mod, PyObject *args)
{
    PyObject *descrs, *r, *w, *el, *ic;
    if (!PyArg_ParseTuple(args, "O!OOOO:setup", &PyTuple_Type, &descrs, &r, &w, &el, &ic))
        return NULL;
    if (PyTuple_GET_SIZE(descrs) != N_SLOTS) {
        PyErr_Format(PyExc_ValueError, "setup: %d descriptors expected", N_SLOTS);
        return NULL;
    }
    for (int i = 0; i < N_SLOTS; i++) {
        PyObject *d = PyTuple_GET_ITEM(descrs, i);
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyErr_Format(PyExc_TypeError, "setup: descriptor %d is not a slot", i);
            return NULL;
        }
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) {
            PyErr_Format(PyExc_TypeError, "setup: descriptor %d is not a writable slot", i);
            return NULL;
        }
        offsets[i] = m->offset;
    }
    Py_XSETREF(py_read, Py_NewRef(r));
    Py_XSETREF(py_write, Py_NewRef(w));
    Py_XSETREF(eligible, Py_NewRef(el));
    Py_XSETREF(iscoroutine, Py_NewRef(ic));
    for (int i = 0; i < N_CACHE; i++) {
        Py_CLEAR(cache[i].type);
    }
    ready = 1;
    Py_RETURN_NONE;
}

/* setup_completion(write_done, write_settle, onwrite): _tls/write_completion.py's two
   functions (the Python references) and Writable._on_write_done, for the two methods of a TLS
   socket's write completion (after setup()). */
static PyObject *
setup_completion(PyObject *mod, PyObject *args)
{
    PyObject *d, *st, *ow;
    if (!PyArg_ParseTuple(args, "OOO:setup_completion", &d, &st, &ow))
        return NULL;
    if (!ready)
        return PyErr_Format(PyExc_RuntimeError, "setup_completion: setup() first");
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL)
        return NULL;
    PyObject *dq = PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (dq == NULL)
        return NULL;
    if (!PyType_Check(dq)) {
        Py_DECREF(dq);
        return PyErr_Format(PyExc_TypeError, "setup_completion: collections.deque");
    }
    Py_XSETREF(deque_type, (PyTypeObject *)dq);
    Py_XSETREF(py_done, Py_NewRef(d));
    Py_XSETREF(py_settle, Py_NewRef(st));
    Py_XSETREF(onwrite, Py_NewRef(ow));
    Py_RETURN_NONE;
}

/* method(cls, name, doc): the C method `name` ("_on_handle_read", "write", and after
   setup_completion() "_tls_write_done" or "_tls_write_settle") as a method descriptor of cls,
   with the Python method's doc string. */
static PyObject *
method(PyObject *mod, PyObject *args)
{
    PyObject *cls;
    const char *name;
    PyObject *doc;
    if (!PyArg_ParseTuple(args, "O!sU:method", &PyType_Type, &cls, &name, &doc))
        return NULL;
    PyMethodDef *def;
    if (strcmp(name, "_on_handle_read") == 0)
        def = &read_def;
    else if (strcmp(name, "write") == 0)
        def = &write_def;
    else if (strcmp(name, "_tls_write_done") == 0 && onwrite != NULL)
        def = &done_def;
    else if (strcmp(name, "_tls_write_settle") == 0 && onwrite != NULL)
        def = &settle_def;
    else
        return PyErr_Format(PyExc_ValueError, "method: no C method %s", name);
    if (PyList_Append(docs, doc) < 0)
        return NULL;
    def->ml_doc = PyUnicode_AsUTF8(doc);
    if (def->ml_doc == NULL)
        return NULL;
    return PyDescr_NewMethod((PyTypeObject *)cls, def);
}

static PyMethodDef functions[] = {
    {"setup", setup, METH_VARARGS, "setup(descriptors, py_read, py_write, eligible, iscoroutine)"},
    {"setup_completion", setup_completion, METH_VARARGS,
     "setup_completion(write_done, write_settle, onwrite)"},
    {"method", method, METH_VARARGS, "method(cls, name, doc) -> method descriptor"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastpath", "net.Socket's per-message methods in C (see the file).",
    -1, functions,
};

PyMODINIT_FUNC
PyInit__fastpath(void)
{
    str_data = PyUnicode_InternFromString("data");
    str_write = PyUnicode_InternFromString("write");
    str_listener_raised = PyUnicode_InternFromString("_listener_raised");
    str_schedule = PyUnicode_InternFromString("_schedule");
    str_read_stop_handle = PyUnicode_InternFromString("_read_stop_handle");
    str_write_tail = PyUnicode_InternFromString("_write_tail");
    str_on_write_done = PyUnicode_InternFromString("_on_write_done");
    docs = PyList_New(0);
    zero = PyLong_FromLong(0);
    one = PyLong_FromLong(1);
    if (!str_data || !str_write || !str_listener_raised || !str_schedule
        || !str_read_stop_handle || !str_write_tail || !str_on_write_done || !docs || !zero
        || !one)
        return NULL;
    return PyModule_Create(&module);
}
