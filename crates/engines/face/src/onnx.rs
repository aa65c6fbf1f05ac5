//! Loading the ONNX files into tract, with the two graph rewrites the shipped
//! files need (see `shared/guides/engines.md` §0):
//!
//! 1. OpenCV-zoo "int8bq" files use opset-21 block-quantized `DequantizeLinear`
//!    on constant weights, which tract does not implement. We fold every
//!    `DequantizeLinear` whose inputs are all initializers into a plain f32
//!    initializer, in memory, at load time. The int8 file on disk is untouched.
//! 2. Symbolic dimensions in `value_info` (the dlib age model declares `N`)
//!    make tract fail to unify shapes; `value_info` is only a hint, so it is
//!    cleared.
//!
//! Graph inputs that no node consumes (SFace-int8bq declares the pre-quantisation
//! weight names as inputs) are dropped so the model has exactly one input.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use tract_onnx::pb::{self, tensor_proto::DataType, TensorProto};
use tract_onnx::prelude::*;

use crate::FaceError;

/// An optimised, runnable tract plan with a fixed input shape.
pub(crate) type Plan = Arc<TypedRunnableModel>;

/// One model output: its shape and values.
pub(crate) type Output = (Vec<usize>, Vec<f32>);

/// Loads an ONNX file, folds constant dequantisation, strips `value_info`,
/// fixes the single input to `input_shape` (NCHW f32) and optimises.
pub(crate) fn load_plan(path: &Path, input_shape: &[usize]) -> Result<Plan, FaceError> {
    let onnx = tract_onnx::onnx();
    let mut proto = onnx
        .proto_model_for_path(path)
        .map_err(|e| FaceError::Model(format!("{}: {e}", path.display())))?;
    let graph = proto
        .graph
        .as_mut()
        .ok_or_else(|| FaceError::Model(format!("{}: no graph", path.display())))?;
    fold_dequantize(graph).map_err(|e| FaceError::Model(format!("{}: {e}", path.display())))?;
    graph.value_info.clear();
    prune_unused_inputs(graph);
    let model = onnx
        .model_for_proto_model(&proto)
        .and_then(|m| m.with_input_fact(0, f32::fact(input_shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(|e| FaceError::Model(format!("{}: {e}", path.display())))?;
    Ok(model)
}

/// Runs a plan on one NCHW f32 tensor and returns every output as a flat f32
/// vector with its shape.
pub(crate) fn run(plan: &Plan, shape: &[usize], data: Vec<f32>) -> Result<Vec<Output>, FaceError> {
    let input =
        Tensor::from_shape(shape, &data).map_err(|e| FaceError::Inference(e.to_string()))?;
    let outputs = plan
        .run(tvec!(input.into()))
        .map_err(|e| FaceError::Inference(e.to_string()))?;
    outputs
        .iter()
        .map(|t| {
            let view = t
                .to_plain_array_view::<f32>()
                .map_err(|e| FaceError::Inference(e.to_string()))?;
            Ok((view.shape().to_vec(), view.iter().copied().collect()))
        })
        .collect()
}

fn prune_unused_inputs(graph: &mut pb::GraphProto) {
    let used: HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .collect();
    let inits: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    // Keep real data inputs only: consumed by a node and not backed by an initializer.
    graph
        .input
        .retain(|i| used.contains(&i.name) && !inits.contains(&i.name));
}

/// Replaces every `DequantizeLinear` node whose inputs are all initializers
/// with an f32 initializer holding `(x - zero_point) * scale`, honouring the
/// per-tensor, per-axis and blocked (opset 21 `block_size`) layouts.
pub(crate) fn fold_dequantize(graph: &mut pb::GraphProto) -> Result<usize, String> {
    let mut inits: HashMap<String, TensorProto> = graph
        .initializer
        .drain(..)
        .map(|t| (t.name.clone(), t))
        .collect();
    let mut kept = Vec::with_capacity(graph.node.len());
    let mut folded = 0;
    for node in graph.node.drain(..) {
        let foldable = node.op_type == "DequantizeLinear"
            && node.domain.is_empty()
            && node
                .input
                .iter()
                .filter(|i| !i.is_empty())
                .all(|i| inits.contains_key(i));
        if !foldable {
            kept.push(node);
            continue;
        }
        let attr = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let axis = attr("axis").unwrap_or(1);
        let block_size = attr("block_size").unwrap_or(0);
        let x = &inits[&node.input[0]];
        let scale = &inits[&node.input[1]];
        let zp = node
            .input
            .get(2)
            .filter(|s| !s.is_empty())
            .map(|n| &inits[n]);
        let values = dequantize(x, scale, zp, axis, block_size)
            .map_err(|e| format!("DequantizeLinear {}: {e}", node.name))?;
        let out = TensorProto {
            dims: x.dims.clone(),
            data_type: DataType::Float as i32,
            name: node.output[0].clone(),
            float_data: values,
            ..Default::default()
        };
        inits.insert(out.name.clone(), out);
        folded += 1;
    }
    // Drop initializers nothing refers to any more (the int8 payloads).
    let used: HashSet<&String> = kept.iter().flat_map(|n| n.input.iter()).collect();
    let outputs: HashSet<&String> = graph.output.iter().map(|o| &o.name).collect();
    graph.initializer = inits
        .into_iter()
        .filter(|(k, _)| used.contains(k) || outputs.contains(k))
        .map(|(_, v)| v)
        .collect();
    graph.node = kept;
    Ok(folded)
}

fn tensor_values(t: &TensorProto) -> Result<Vec<f32>, String> {
    let dt = DataType::try_from(t.data_type).map_err(|_| format!("bad dtype {}", t.data_type))?;
    let raw = &t.raw_data;
    let v: Vec<f32> = match dt {
        DataType::Float if !raw.is_empty() => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        DataType::Float => t.float_data.clone(),
        DataType::Int8 if !raw.is_empty() => raw.iter().map(|&b| b as i8 as f32).collect(),
        DataType::Uint8 if !raw.is_empty() => raw.iter().map(|&b| b as f32).collect(),
        // Without raw_data, 8-bit payloads live in int32_data (ONNX spec).
        DataType::Int8 | DataType::Uint8 => t.int32_data.iter().map(|&v| v as f32).collect(),
        other => return Err(format!("unsupported quantised dtype {other:?}")),
    };
    let expected: i64 = t.dims.iter().product();
    if v.len() as i64 != expected {
        return Err(format!(
            "tensor {} has {} values, dims {:?}",
            t.name,
            v.len(),
            t.dims
        ));
    }
    Ok(v)
}

fn dequantize(
    x: &TensorProto,
    scale: &TensorProto,
    zp: Option<&TensorProto>,
    axis: i64,
    block_size: i64,
) -> Result<Vec<f32>, String> {
    let xv = tensor_values(x)?;
    let sv = tensor_values(scale)?;
    let zv = match zp {
        Some(z) => tensor_values(z)?,
        None => vec![0.0; sv.len()],
    };
    if zv.len() != sv.len() {
        return Err("scale and zero point sizes differ".into());
    }
    let dims: Vec<usize> = x.dims.iter().map(|&d| d as usize).collect();
    if sv.len() == 1 {
        return Ok(xv.iter().map(|&q| (q - zv[0]) * sv[0]).collect());
    }
    let rank = dims.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis } as usize;
    if axis >= dims.len() {
        return Err(format!("axis {axis} out of range for {dims:?}"));
    }
    // Scale index for an element: same coordinates, except along `axis`
    // where it is coord / block_size (per-axis = block of 1 along that axis
    // with the scale shaped like that single dimension).
    let inner: usize = dims[axis + 1..].iter().product();
    let axis_len = dims[axis];
    let (bs, scale_axis_len) = if block_size > 0 {
        let bs = block_size as usize;
        (bs, axis_len.div_ceil(bs))
    } else {
        (1, axis_len)
    };
    let per_axis_only = block_size <= 0;
    if per_axis_only && sv.len() != axis_len {
        return Err(format!(
            "per-axis scale has {} values for axis len {axis_len}",
            sv.len()
        ));
    }
    let mut out = Vec::with_capacity(xv.len());
    for (i, &q) in xv.iter().enumerate() {
        let outer_idx = i / (axis_len * inner);
        let a = (i / inner) % axis_len;
        let in_idx = i % inner;
        let si = if per_axis_only {
            a
        } else {
            (outer_idx * scale_axis_len + a / bs) * inner + in_idx
        };
        let (s, z) = (sv[si], zv[si]);
        out.push((q - z) * s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, dims: &[i64], dt: DataType, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: dt as i32,
            raw_data: raw,
            ..Default::default()
        }
    }

    #[test]
    fn blocked_dequantize_along_axis_1() {
        // 2x4 weights, blocks of 2 along axis 1 -> scales shaped 2x2.
        let x = t(
            "x",
            &[2, 4],
            DataType::Int8,
            [1i8, 2, 3, 4, -1, -2, -3, -4].map(|v| v as u8).to_vec(),
        );
        let s: Vec<u8> = [1.0f32, 10.0, 0.5, 2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let scale = t("s", &[2, 2], DataType::Float, s);
        let zp = t(
            "z",
            &[2, 2],
            DataType::Int8,
            [0i8, 1, 0, -1].map(|v| v as u8).to_vec(),
        );
        let y = dequantize(&x, &scale, Some(&zp), 1, 2).unwrap();
        assert_eq!(y, vec![1.0, 2.0, 20.0, 30.0, -0.5, -1.0, -4.0, -6.0]);
    }

    #[test]
    fn blocked_dequantize_1d_axis_0_with_ragged_last_block() {
        let x = t(
            "x",
            &[5],
            DataType::Int8,
            [10i8, 20, 30, 40, 50].map(|v| v as u8).to_vec(),
        );
        let s: Vec<u8> = [0.1f32, 1.0, 2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let scale = t("s", &[3], DataType::Float, s);
        let y = dequantize(&x, &scale, None, 0, 2).unwrap();
        let expect = [1.0, 2.0, 30.0, 40.0, 100.0];
        for (a, b) in y.iter().zip(expect) {
            assert!((a - b).abs() < 1e-5, "{y:?}");
        }
    }

    #[test]
    fn per_axis_dequantize() {
        let x = t(
            "x",
            &[2, 2],
            DataType::Int8,
            [1i8, 2, 3, 4].map(|v| v as u8).to_vec(),
        );
        let s: Vec<u8> = [2.0f32, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let scale = t("s", &[2], DataType::Float, s);
        assert_eq!(
            dequantize(&x, &scale, None, 0, 0).unwrap(),
            vec![2.0, 4.0, 9.0, 12.0]
        );
        assert_eq!(
            dequantize(&x, &scale, None, 1, 0).unwrap(),
            vec![2.0, 6.0, 6.0, 12.0]
        );
    }
}
