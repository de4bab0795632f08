"""How `tinynet bench` names and attributes the data objects of a Cortex-M image (cli/bench_cmd.py,
data_objects): the table kind from a demangled symbol (cortex_m.table_name) and the op from the
header's names in it (emit.op_of_symbol, the inverse of emit.op_prefix). The images themselves
are measured in tests/integration/test_bench.py."""

import pytest

from tinynet_py import cortex_m, emit
from tinynet_py.ir import Op


@pytest.mark.parametrize("symbol, table", [
    ("tinynet::ChannelPlan<kws::t3, kws::t4, kws::op2_conv_2d_weights, kws::op2_conv_2d_bias, "
     "kws::op2_conv_2d_weight_scales, (tinynet::Activation)1, 64, tinynet::WeightLayout<64, 64, 1>, "
     "(tinynet::MultiplierTable)1>::folded_bias", "folded_bias"),
    ("tinynet::kernels::wide_rows<tinynet::detail::few_channels_rows<net::op0_conv_2d_weights, "
     "tinynet::detail::FewChannelsLayout<3, 3, 3>, 16>, 28, 4>", "wide_rows"),
    ("kws::op9_conv_2d_weights", "op9_conv_2d_weights"),
    # a template argument holding '::' and a call-like cast must not end the name early
    ("tinynet::DepthwiseConv2D<a::t1, a::t2, a::op1_depthwise_conv_2d_weights, "
     "tinynet::DepthwiseConv2DOptions{3, 3, (tinynet::Padding)1}>::quad_stages", "quad_stages"),
    ("input_file<0u>", "input_file"),
])
def test_table_name_is_the_last_component_without_arguments(symbol, table):
    assert cortex_m.table_name(symbol) == table


def test_op_of_symbol_reads_back_the_prefix_the_header_gives():
    op = Op(index=17, opcode="DEPTHWISE_CONV_2D", inputs=[], outputs=[])
    name = f"kws::{emit.op_prefix(op)}_weights"
    assert emit.op_of_symbol(name, "kws") == 17
    # the first op named is the owner; another namespace's names and the harness's are no op's
    assert emit.op_of_symbol("tinynet::X<kws::op3_conv_2d_weights, kws::op12_add_input>::t", "kws") == 3
    assert emit.op_of_symbol("other::op3_conv_2d_weights", "kws") is None
    assert emit.op_of_symbol("xkws::op3_conv_2d_weights", "kws") is None
    assert emit.op_of_symbol("input_file<0u>", "kws") is None
