//! The native half of the Python package `focal_loss_rs`: numpy arrays in, numpy arrays out,
//! the library's kernels in between with the GIL released.
//!
//! Thin by design: it checks what Python can get wrong and Rust's types cannot express
//! (dtypes, contiguity, shapes, aliasing), builds the library's options and calls it. Every
//! value check is the library's own; its error arrives as `ValueError` with its message. The
//! friendly signatures, defaults and docs are in `focal_loss_rs/__init__.py`.

use focal_loss::{
    AsymmetricOptions, Float, FocalError, FocalStarOptions, PerClassFocalOptions,
    Poly1FocalOptions, QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions,
    SigmoidObjective, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape, VarifocalOptions,
};
use numpy::prelude::*;
use numpy::{
    Element, PyArrayDescr, PyArrayDyn, PyReadonlyArrayDyn, PyReadwriteArrayDyn, PyUntypedArray,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

fn value_error(error: FocalError) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// `array` as a numpy array, or a `TypeError` naming the argument.
fn ndarray<'a, 'py>(
    name: &str,
    array: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    array.cast::<PyUntypedArray>().map_err(|_| {
        let kind = array
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!(
            "{name} must be a numpy.ndarray, not {kind} (use numpy.asarray)"
        ))
    })
}

fn dtype_name(dtype: &Bound<'_, PyArrayDescr>) -> String {
    dtype.str().map(|s| s.to_string()).unwrap_or_default()
}

fn is<T: Element>(array: &Bound<'_, PyUntypedArray>) -> bool {
    array.dtype().is_equiv_to(&numpy::dtype::<T>(array.py()))
}

/// A read-only, zero-copy view of a C-contiguous array of `T`.
fn input<'py, T: Element>(
    name: &str,
    array: &Bound<'py, PyUntypedArray>,
) -> PyResult<PyReadonlyArrayDyn<'py, T>> {
    if !is::<T>(array) {
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype {}, not {}",
            dtype_name(&numpy::dtype::<T>(array.py())),
            dtype_name(&array.dtype())
        )));
    }
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} must be C-contiguous (use numpy.ascontiguousarray)"
        )));
    }
    let typed = array.cast::<PyArrayDyn<T>>()?;
    typed
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name}: {e} (an output shares its memory)")))
}

/// The slice of a readonly array (contiguity was checked by [`input`]).
fn slice<'a, T: Element>(array: &'a PyReadonlyArrayDyn<'_, T>) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// An output: the caller's `out` array (checked) or a new zeroed one (numpy's calloc: pages
/// the kernels touch first, no extra pass).
fn output<'py, T: Element>(
    py: Python<'py>,
    name: &str,
    out: Option<&Bound<'py, PyAny>>,
    shape: &[usize],
) -> PyResult<(Bound<'py, PyArrayDyn<T>>, PyReadwriteArrayDyn<'py, T>)> {
    let array = match out {
        None => PyArrayDyn::<T>::zeros(py, shape, false),
        Some(out) => {
            let untyped = ndarray(name, out)?;
            if !is::<T>(untyped) {
                return Err(PyTypeError::new_err(format!(
                    "{name} must have dtype {}, not {}",
                    dtype_name(&numpy::dtype::<T>(py)),
                    dtype_name(&untyped.dtype())
                )));
            }
            if untyped.shape() != shape {
                return Err(PyValueError::new_err(format!(
                    "{name} must have shape {shape:?}, not {:?}",
                    untyped.shape()
                )));
            }
            if !untyped.is_c_contiguous() {
                return Err(PyValueError::new_err(format!(
                    "{name} must be C-contiguous"
                )));
            }
            untyped.cast::<PyArrayDyn<T>>()?.clone()
        }
    };
    let writer = array.try_readwrite().map_err(|e| {
        PyValueError::new_err(format!(
            "{name}: {e} (outputs must be writeable and share no memory with the inputs or each other)"
        ))
    })?;
    Ok((array, writer))
}

/// `$typed::<T>($args)` for the element type `T` of `$logits`, float32 or float64.
macro_rules! by_dtype {
    ($logits:expr, $typed:ident($($args:expr),*)) => {
        if is::<f32>($logits) {
            $typed::<f32>($($args),*)
        } else if is::<f64>($logits) {
            $typed::<f64>($($args),*)
        } else {
            Err(PyTypeError::new_err(format!(
                "logits must have dtype float32 or float64, not {}",
                dtype_name(&$logits.dtype())
            )))
        }
    };
}

fn reduction(name: &str) -> PyResult<Reduction> {
    match name {
        "none" => Ok(Reduction::None),
        "mean" => Ok(Reduction::Mean),
        "sum" => Ok(Reduction::Sum),
        other => Err(PyValueError::new_err(format!(
            "reduction must be 'none', 'mean' or 'sum', not {other:?}"
        ))),
    }
}

/// The options every elementwise objective has.
#[derive(Clone, Copy)]
struct Common {
    label_smoothing: f64,
    reduction: Reduction,
    normalizer: Option<f64>,
    threads: usize,
}

/// The sigmoid objective's own parameters, as the Python layer passes them (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct ObjectiveArgs {
    name: String,
    gamma: f64,
    alpha: Option<f64>,
    beta: f64,
    epsilon: f64,
    gamma_negative: f64,
    margin: f64,
    threshold: f64,
    class_gamma: Option<Vec<f64>>,
}

fn sigmoid_objective(
    args: ObjectiveArgs,
    common: Common,
) -> PyResult<Box<dyn SigmoidObjective + Send + Sync>> {
    macro_rules! with_common {
        ($options:expr) => {
            Box::new(
                $options
                    .label_smoothing(common.label_smoothing)
                    .reduction(common.reduction)
                    .normalizer(common.normalizer)
                    .threads(common.threads),
            )
        };
    }
    let alpha_on = |name: &str| {
        args.alpha.ok_or_else(|| {
            PyValueError::new_err(format!("{name} needs an alpha (it has no 'off' setting)"))
        })
    };
    Ok(match args.name.as_str() {
        "focal" => with_common!(
            SigmoidFocalOptions::default()
                .gamma(args.gamma)
                .alpha(args.alpha)
        ),
        "focal_star" => with_common!(
            FocalStarOptions::default()
                .gamma(args.gamma)
                .beta(args.beta)
                .alpha(args.alpha)
        ),
        "poly1" => with_common!(
            Poly1FocalOptions::default()
                .gamma(args.gamma)
                .alpha(args.alpha)
                .epsilon(args.epsilon)
        ),
        "quality_focal" => with_common!(QualityFocalOptions::default().beta(args.beta)),
        "varifocal" => with_common!(
            VarifocalOptions::default()
                .alpha(alpha_on("varifocal")?)
                .gamma(args.gamma)
        ),
        "asymmetric" => with_common!(
            AsymmetricOptions::default()
                .gamma_positive(args.gamma)
                .gamma_negative(args.gamma_negative)
                .margin(args.margin)
        ),
        "reduced_focal" => with_common!(
            ReducedFocalOptions::default()
                .gamma(args.gamma)
                .threshold(args.threshold)
                .alpha(args.alpha)
        ),
        "per_class_focal" => with_common!(
            PerClassFocalOptions::default()
                .class_gamma(args.class_gamma.unwrap_or_default())
                .alpha(args.alpha)
        ),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown objective {other:?}"
            )));
        }
    })
}

/// Which outputs a call writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outputs {
    Loss,
    LossGrad,
    Grad,
    GradHess,
}

fn outputs(name: &str) -> PyResult<Outputs> {
    match name {
        "loss" => Ok(Outputs::Loss),
        "loss_grad" => Ok(Outputs::LossGrad),
        "grad" => Ok(Outputs::Grad),
        "grad_hess" => Ok(Outputs::GradHess),
        other => Err(PyValueError::new_err(format!("unknown outputs {other:?}"))),
    }
}

/// The targets of a sigmoid call, held for the duration of the call.
enum HeldTargets<'py, T: Element> {
    Soft(PyReadonlyArrayDyn<'py, T>),
    Labels(PyReadonlyArrayDyn<'py, u8>),
    Bools(PyReadonlyArrayDyn<'py, bool>),
    Classes32(PyReadonlyArrayDyn<'py, i32>),
    /// int64 class indices narrowed to i32: a copy (documented in the Python API).
    Classes64(Vec<i32>),
}

/// int64 class indices as the library's i32, or the first that does not fit.
fn narrow_classes(targets: &[i64]) -> PyResult<Vec<i32>> {
    targets
        .iter()
        .enumerate()
        .map(|(index, &t)| {
            i32::try_from(t).map_err(|_| {
                PyValueError::new_err(format!(
                    "targets[{index}] = {t} is outside the int32 range of class indices"
                ))
            })
        })
        .collect()
}

/// Holds `targets` in the form their dtype selects; for class indices also checks the shapes
/// (`logits [N, C]`, `targets [N]`).
fn sigmoid_targets<'py, T: Element>(
    targets: &Bound<'py, PyUntypedArray>,
    logits_shape: &[usize],
) -> PyResult<HeldTargets<'py, T>> {
    let same_shape = || {
        if targets.shape() == logits_shape {
            Ok(())
        } else {
            Err(PyValueError::new_err(format!(
                "targets must have the shape of logits {logits_shape:?}, not {:?}",
                targets.shape()
            )))
        }
    };
    let classes_shape = || {
        if logits_shape.len() == 2 && targets.shape() == [logits_shape[0]] {
            Ok(())
        } else {
            Err(PyValueError::new_err(format!(
                "class-index targets need logits of shape [N, C] and targets of shape [N]; \
                 got logits {logits_shape:?} and targets {:?}",
                targets.shape()
            )))
        }
    };
    if is::<T>(targets) {
        same_shape()?;
        Ok(HeldTargets::Soft(input("targets", targets)?))
    } else if is::<u8>(targets) {
        same_shape()?;
        Ok(HeldTargets::Labels(input("targets", targets)?))
    } else if is::<bool>(targets) {
        same_shape()?;
        Ok(HeldTargets::Bools(input("targets", targets)?))
    } else if is::<i32>(targets) {
        classes_shape()?;
        Ok(HeldTargets::Classes32(input("targets", targets)?))
    } else if is::<i64>(targets) {
        classes_shape()?;
        let wide = input::<i64>("targets", targets)?;
        Ok(HeldTargets::Classes64(narrow_classes(slice(&wide)?)?))
    } else {
        Err(PyTypeError::new_err(format!(
            "targets must be soft targets of the logits' dtype {}, labels (uint8 or bool) or \
             class indices (int32 or int64), not {}",
            dtype_name(&numpy::dtype::<T>(targets.py())),
            dtype_name(&targets.dtype())
        )))
    }
}

impl<'py, T: Element> HeldTargets<'py, T> {
    fn view(&self, classes: usize) -> PyResult<SigmoidTargets<'_, T>> {
        Ok(match self {
            Self::Soft(y) => SigmoidTargets::Soft(slice(y)?),
            Self::Labels(y) => SigmoidTargets::Labels(slice(y)?),
            Self::Bools(y) => {
                let bools = slice(y)?;
                // SAFETY: a bool is one byte holding 0 or 1, a valid u8 of the same size and
                // alignment; the slice lives as long as `y`'s borrow.
                let bytes = unsafe {
                    core::slice::from_raw_parts(bools.as_ptr().cast::<u8>(), bools.len())
                };
                SigmoidTargets::Labels(bytes)
            }
            Self::Classes32(y) => SigmoidTargets::Classes {
                targets: slice(y)?,
                classes,
            },
            Self::Classes64(y) => SigmoidTargets::Classes {
                targets: y,
                classes,
            },
        })
    }
}

/// The arguments of a sigmoid call that do not depend on the element type.
struct SigmoidCall<'a, 'py> {
    logits: &'a Bound<'py, PyUntypedArray>,
    targets: &'a Bound<'py, PyUntypedArray>,
    weights: Option<&'a Bound<'py, PyUntypedArray>>,
    objective: Box<dyn SigmoidObjective + Send + Sync>,
    reduction: Reduction,
    outputs: Outputs,
    hessian_floor: Option<f64>,
    out: [Option<&'a Bound<'py, PyAny>>; 3],
}

/// The three outputs (loss, gradient, Hessian) a call returns, `None` where not asked for.
type Returned<'py> = (
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyAny>>,
);

/// An output array and the exclusive borrow the kernels write through.
type Written<'py, T> = Option<(Bound<'py, PyArrayDyn<T>>, PyReadwriteArrayDyn<'py, T>)>;

fn written<'py, T: Element>(
    py: Python<'py>,
    wanted: bool,
    name: &str,
    out: Option<&Bound<'py, PyAny>>,
    shape: &[usize],
) -> PyResult<Written<'py, T>> {
    match (wanted, out) {
        (true, out) => Ok(Some(output::<T>(py, name, out, shape)?)),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(PyValueError::new_err(format!(
            "{name} was given for an output this call does not write"
        ))),
    }
}

fn slice_mut<'a, T: Element>(written: &'a mut Written<'_, T>) -> PyResult<Option<&'a mut [T]>> {
    match written {
        Some((_, writer)) => Ok(Some(
            writer
                .as_slice_mut()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

fn returned<'py, T: Element>(written: Written<'py, T>) -> Option<Bound<'py, PyAny>> {
    written.map(|(array, writer)| {
        drop(writer);
        array.into_any()
    })
}

fn sigmoid_typed<'py, T: Float + Element>(
    py: Python<'py>,
    call: SigmoidCall<'_, 'py>,
) -> PyResult<Returned<'py>> {
    let logits_held = input::<T>("logits", call.logits)?;
    let shape = call.logits.shape().to_vec();
    let classes = shape.last().copied().unwrap_or(1);
    let targets_held = sigmoid_targets::<T>(call.targets, &shape)?;
    let weights_held = match call.weights {
        None => None,
        Some(w) => {
            if w.shape() != shape.as_slice() {
                return Err(PyValueError::new_err(format!(
                    "weights must have the shape of logits {shape:?}, not {:?}",
                    w.shape()
                )));
            }
            Some(input::<T>("weights", w)?)
        }
    };
    let loss_shape: &[usize] = match call.reduction {
        Reduction::None => &shape,
        _ => &[],
    };
    let [out_loss, out_grad, out_hess] = call.out;
    let wants = call.outputs;
    let mut loss = written::<T>(
        py,
        matches!(wants, Outputs::Loss | Outputs::LossGrad),
        "out (loss)",
        out_loss,
        loss_shape,
    )?;
    let mut grad = written::<T>(py, wants != Outputs::Loss, "out (grad)", out_grad, &shape)?;
    let mut hess = written::<T>(
        py,
        wants == Outputs::GradHess,
        "out (hess)",
        out_hess,
        &shape,
    )?;
    let logits = slice(&logits_held)?;
    let targets = targets_held.view(classes)?;
    let weights = weights_held.as_ref().map(slice).transpose()?;
    let (loss_out, grad_out, hess_out) = (
        slice_mut(&mut loss)?,
        slice_mut(&mut grad)?,
        slice_mut(&mut hess)?,
    );
    let objective = &*call.objective;
    let floor = call.hessian_floor;
    py.detach(|| match (loss_out, grad_out, hess_out) {
        (Some(loss), None, None) => {
            focal_loss::sigmoid_focal_loss(logits, targets, weights, objective, loss)
        }
        (Some(loss), Some(grad), None) => {
            focal_loss::sigmoid_focal_loss_grad(logits, targets, weights, objective, loss, grad)
        }
        (None, Some(grad), None) => {
            focal_loss::sigmoid_focal_grad(logits, targets, weights, objective, grad)
        }
        (None, Some(grad), Some(hess)) => focal_loss::sigmoid_focal_grad_hess(
            logits, targets, weights, objective, floor, grad, hess,
        ),
        // `written` gives exactly the combinations above.
        _ => Ok(()),
    })
    .map_err(value_error)?;
    Ok((returned(loss), returned(grad), returned(hess)))
}

/// Sigmoid focal loss and its family: the loss, its gradient, or gradient and Hessian, in the
/// dtype of `logits` (float32 or float64). See `focal_loss_rs.sigmoid_focal_loss`.
#[pyfunction]
#[pyo3(signature = (
    logits, targets, *, objective, weights=None, label_smoothing=0.0, reduction="mean",
    normalizer=None, threads=0, outputs="loss", hessian_floor=None, out_loss=None,
    out_grad=None, out_hess=None
))]
#[allow(clippy::too_many_arguments)]
fn sigmoid<'py>(
    py: Python<'py>,
    logits: &Bound<'py, PyAny>,
    targets: &Bound<'py, PyAny>,
    objective: ObjectiveArgs,
    weights: Option<&Bound<'py, PyAny>>,
    label_smoothing: f64,
    reduction: &str,
    normalizer: Option<f64>,
    threads: usize,
    outputs: &str,
    hessian_floor: Option<f64>,
    out_loss: Option<&Bound<'py, PyAny>>,
    out_grad: Option<&Bound<'py, PyAny>>,
    out_hess: Option<&Bound<'py, PyAny>>,
) -> PyResult<Returned<'py>> {
    let reduction = self::reduction(reduction)?;
    let common = Common {
        label_smoothing,
        reduction,
        normalizer,
        threads,
    };
    let logits = ndarray("logits", logits)?;
    let call = SigmoidCall {
        logits,
        targets: ndarray("targets", targets)?,
        weights: weights.map(|w| ndarray("weights", w)).transpose()?,
        objective: sigmoid_objective(objective, common)?,
        reduction,
        outputs: self::outputs(outputs)?,
        hessian_floor,
        out: [out_loss, out_grad, out_hess],
    };
    by_dtype!(logits, sigmoid_typed(py, call))
}

/// α of the softmax loss: off (`None`), one value, or one per class.
#[derive(FromPyObject)]
enum SoftmaxAlphaArg {
    Uniform(f64),
    PerClass(Vec<f64>),
}

/// The arguments of a softmax call that do not depend on the element type.
struct SoftmaxCall<'a, 'py> {
    logits: &'a Bound<'py, PyUntypedArray>,
    targets: &'a Bound<'py, PyUntypedArray>,
    options: SoftmaxFocalOptions,
    outputs: Outputs,
    hessian_floor: Option<f64>,
    out: [Option<&'a Bound<'py, PyAny>>; 3],
}

fn softmax_typed<'py, T: Float + Element>(
    py: Python<'py>,
    call: SoftmaxCall<'_, 'py>,
) -> PyResult<Returned<'py>> {
    let logits_held = input::<T>("logits", call.logits)?;
    let shape = call.logits.shape().to_vec();
    if shape.len() < 2 {
        return Err(PyValueError::new_err(format!(
            "softmax logits must have shape [N, C] or [N, C, d1, ...], not {shape:?}"
        )));
    }
    let (batch, classes) = (shape[0], shape[1]);
    let spatial_dims = &shape[2..];
    let spatial = spatial_dims.iter().product::<usize>();
    let target_shape: Vec<usize> = core::iter::once(batch)
        .chain(spatial_dims.iter().copied())
        .collect();
    if call.targets.shape() != target_shape.as_slice() {
        return Err(PyValueError::new_err(format!(
            "targets must have shape {target_shape:?} for logits {shape:?}, not {:?}",
            call.targets.shape()
        )));
    }
    let (targets_narrow, targets_wide);
    let targets: &[i32] = if is::<i32>(call.targets) {
        targets_narrow = input::<i32>("targets", call.targets)?;
        slice(&targets_narrow)?
    } else if is::<i64>(call.targets) {
        let held = input::<i64>("targets", call.targets)?;
        targets_wide = narrow_classes(slice(&held)?)?;
        &targets_wide
    } else {
        return Err(PyTypeError::new_err(format!(
            "softmax targets must be class indices of dtype int32 or int64, not {}",
            dtype_name(&call.targets.dtype())
        )));
    };
    let loss_shape: &[usize] = match call.options.reduction {
        Reduction::None => &target_shape,
        _ => &[],
    };
    let [out_loss, out_grad, out_hess] = call.out;
    let wants = call.outputs;
    let mut loss = written::<T>(
        py,
        matches!(wants, Outputs::Loss | Outputs::LossGrad),
        "out (loss)",
        out_loss,
        loss_shape,
    )?;
    let mut grad = written::<T>(py, wants != Outputs::Loss, "out (grad)", out_grad, &shape)?;
    let mut hess = written::<T>(
        py,
        wants == Outputs::GradHess,
        "out (hess)",
        out_hess,
        &shape,
    )?;
    let logits = slice(&logits_held)?;
    let (loss_out, grad_out, hess_out) = (
        slice_mut(&mut loss)?,
        slice_mut(&mut grad)?,
        slice_mut(&mut hess)?,
    );
    let softmax_shape = SoftmaxShape::channels_first(batch, classes, spatial);
    let options = &call.options;
    let floor = call.hessian_floor;
    py.detach(|| match (loss_out, grad_out, hess_out) {
        (Some(loss), None, None) => {
            focal_loss::softmax_focal_loss(logits, targets, softmax_shape, options, loss)
        }
        (Some(loss), Some(grad), None) => {
            focal_loss::softmax_focal_loss_grad(logits, targets, softmax_shape, options, loss, grad)
        }
        (None, Some(grad), None) => {
            focal_loss::softmax_focal_grad(logits, targets, softmax_shape, options, grad)
        }
        (None, Some(grad), Some(hess)) => focal_loss::softmax_focal_grad_hess(
            logits,
            targets,
            softmax_shape,
            options,
            floor,
            grad,
            hess,
        ),
        // `written` gives exactly the combinations above.
        _ => Ok(()),
    })
    .map_err(value_error)?;
    Ok((returned(loss), returned(grad), returned(hess)))
}

/// Softmax focal loss over axis 1 of `[N, C]` or `[N, C, d1, ...]` logits with class-index
/// targets `[N]` or `[N, d1, ...]`. See `focal_loss_rs.softmax_focal_loss`.
#[pyfunction]
#[pyo3(signature = (
    logits, targets, *, gamma=2.0, class_gamma=None, alpha=None, epsilon=0.0,
    label_smoothing=0.0, reduction="mean", normalizer=None, ignore_index=-100, threads=0,
    outputs="loss", hessian_floor=None, out_loss=None, out_grad=None, out_hess=None
))]
#[allow(clippy::too_many_arguments)]
fn softmax<'py>(
    py: Python<'py>,
    logits: &Bound<'py, PyAny>,
    targets: &Bound<'py, PyAny>,
    gamma: f64,
    class_gamma: Option<Vec<f64>>,
    alpha: Option<SoftmaxAlphaArg>,
    epsilon: f64,
    label_smoothing: f64,
    reduction: &str,
    normalizer: Option<f64>,
    ignore_index: i32,
    threads: usize,
    outputs: &str,
    hessian_floor: Option<f64>,
    out_loss: Option<&Bound<'py, PyAny>>,
    out_grad: Option<&Bound<'py, PyAny>>,
    out_hess: Option<&Bound<'py, PyAny>>,
) -> PyResult<Returned<'py>> {
    let options = SoftmaxFocalOptions::default()
        .gamma(gamma)
        .class_gamma(class_gamma)
        .epsilon(epsilon)
        .label_smoothing(label_smoothing)
        .reduction(self::reduction(reduction)?)
        .normalizer(normalizer)
        .ignore_index(ignore_index)
        .threads(threads);
    let options = match alpha {
        None => options.alpha(None),
        Some(SoftmaxAlphaArg::Uniform(a)) => options.alpha(a),
        Some(SoftmaxAlphaArg::PerClass(a)) => options.class_alpha(a),
    };
    let logits = ndarray("logits", logits)?;
    let call = SoftmaxCall {
        logits,
        targets: ndarray("targets", targets)?,
        options,
        outputs: self::outputs(outputs)?,
        hessian_floor,
        out: [out_loss, out_grad, out_hess],
    };
    by_dtype!(logits, softmax_typed(py, call))
}

/// The address of the memory a call reads for `array` (for the zero-copy tests): the same
/// checks and view as the loss functions' inputs.
#[pyfunction]
fn _input_address(array: &Bound<'_, PyAny>) -> PyResult<usize> {
    let array = ndarray("array", array)?;
    macro_rules! address {
        ($($t:ty),*) => {$(
            if is::<$t>(array) {
                let held = input::<$t>("array", array)?;
                return Ok(slice(&held)?.as_ptr() as usize);
            }
        )*};
    }
    address!(f32, f64, u8, bool, i32);
    Err(PyTypeError::new_err("no zero-copy input of this dtype"))
}

/// The SIMD level the kernels run at (`avx512`, `avx2`, `neon`, `scalar`).
#[pyfunction]
fn simd_level() -> &'static str {
    focal_loss::simd_level().name()
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(sigmoid, module)?)?;
    module.add_function(wrap_pyfunction!(softmax, module)?)?;
    module.add_function(wrap_pyfunction!(_input_address, module)?)?;
    module.add_function(wrap_pyfunction!(simd_level, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
