# SPDX-License-Identifier: MIT
"""Conformance guests: each boots as the first domain, prints one CHECK line
per check and a DONE line, then powers off (guests/lib/include/guest/test.h).

A guest passes when every CHECK line is ok, every expected check ran (so a
guest that stops early or skips checks fails), the DONE line agrees, the
hypervisor did not panic and QEMU exited by itself.
"""
import re

import pytest

from conftest import assert_no_hv_panic, boot, guest_elf

CHECK_LINE = re.compile(r"^CHECK (\w+):(\w+) (ok|FAIL.*)$", re.M)
DONE_LINE = re.compile(r"^GUEST (\w+) DONE passed=(\d+) failed=(\d+)$", re.M)

# dom0_mem on the hypervisor line and what entry_state must then see.
HV_ARGS = "loglvl=warn dom0_mem=64M"
GUEST_ARGS = {
    "entry_state": "expect_pages=16384 marker=kumquat",
}

_BAD_POINTERS = ["null", "hv_image", "noncanonical", "unmapped", "m2p"]
_EFAULT_OPS = ["extraversion", "get_features", "machphys_mapping", "bind_virq",
               "console_write", "singleshot", "callback_register", "gnttab_query_size"]

EXPECTED = {
    "entry_state": [
        "magic", "flags_privileged_initdomain", "nr_pages", "cmdline_passed", "cmdline_terminated",
        "no_init_p2m_segment", "p2m_after_kernel", "start_info_after_p2m",
        "pt_base_after_start_info", "nr_pt_frames", "stack_after_page_tables",
        "mapped_512k_to_4m_boundary", "l2_maps_4k_pages", "one_to_one_map_bad_pfn",
        "page_tables_mapped_readonly", "p2m_entries_valid_missing", "m2p_roundtrip_bad_pfn",
        "m2p_shared_info_not_ours", "machphys_mapping_rc", "machphys_mapping_v_start",
        "machphys_mapping_v_end", "machphys_mapping_max_mfn", "rsp_page_top", "rsi_start_info",
        "cs", "ss", "rflags_if_iopl0", "data_selectors_null", "other_gprs_zero", "dr6_initial",
        "dr7_initial", "events_masked_at_entry", "all_vcpu_slots_masked_missing",
        "time_version_even", "time_mul_nonzero", "system_time_advancing", "version_major_ge_4",
        "extraversion", "get_features_rc", "get_features_bits_5_7", "pagesize",
        "platform_parameters_rc", "platform_parameters_virt_start", "vcpu0_is_up", "set_trap_table"
    ],
    "events_timers": [
        "register_event_callback", "bind_virq_timer", "bind_virq_twice_eexist",
        "stop_periodic_timer", "set_singleshot_timer", "block_until_singleshot",
        "singleshot_not_early", "singleshot_past_rc", "singleshot_past_pending_at_once",
        "singleshot_past_delivered_on_unmask", "periodic_under_1ms_einval", "set_periodic_2ms",
        "periodic_ticks_3", "stop_periodic_again", "stop_singleshot", "status_virq_rc",
        "status_virq", "status_virq_number", "alloc_unbound", "status_unbound_rc", "status_unbound",
        "status_unbound_remote", "send_unbound_dropped", "bind_interdomain",
        "bind_interdomain_marks_pending", "status_interdomain_rc", "status_interdomain",
        "status_interdomain_dom", "status_interdomain_port", "status_interdomain_peer",
        "send_b_to_a", "send_b_sets_a_pending", "send_b_delivers_a", "send_a_to_b",
        "send_a_delivers_b", "close_interdomain", "closed_status", "peer_unbound_after_close",
        "close_twice_einval", "close_unbound", "close_port0_einval", "bind_ipi", "status_ipi_rc",
        "status_ipi", "status_ipi_vcpu", "send_ipi", "ipi_delivered", "send_masked_ipi",
        "masked_port_pending", "masked_port_not_delivered", "unmask_hypercall", "unmask_delivers",
        "close_ipi", "init_control_enosys", "bind_virq_24_einval", "bind_virq_bad_vcpu_enoent",
        "pvclock_monotonic_backsteps", "wallclock_after_2024", "wc_version_even", "set_trap_table"
    ],
    "hv_memory": [
        "m2p_read_works", "m2p_read_value", "m2p_write_pf", "m2p_write_error_code", "m2p_unchanged",
        "remap_own_frame", "remap_own_frame_visible", "map_hv_image_frame_refused",
        "map_hv_image_frame_ro_refused", "map_mfn0_refused", "map_huge_mfn_refused",
        "map_own_l4_writable_refused", "map_own_l4_readonly", "map_own_l4_readonly_content",
        "map_in_hv_hole_refused", "map_unmapped_va_einval", "restore_window",
        "restore_window_not_other", "l4_hv_slot_update_einval", "l1_entry_writable_pt_refused",
        "l1_entry_hv_frame_refused", "machphys_update_foreign_refused", "pin_pinned_l4_einval",
        "unpin_unpinned_einval", "pin_writable_frame_refused", "new_baseptr_writable_frame_refused",
        "new_baseptr_hv_frame_refused", "set_trap_table", "window_pte", "hv_image_read_pf",
        "hv_image_write_pf", "directmap_read_pf", "directmap_write_pf", "flags_privileged",
        "map_lapic_eperm", "map_ioapic_eperm", "map_own_ram_uncached_einval", "map_hpet_uncached",
        "hpet_vendor_read", "unmap_hpet"
    ],
    "grant_table": [
        "setup_table", "map_table_frame", "map_rw", "map_dev_bus_addr", "map_reads_granted_page",
        "map_writes_through", "map_sets_reading_writing", "map_pte_frame", "map_pte_grant_bit",
        "revoke_while_mapped_fails", "unmap_bad_host_addr", "unmap", "unmap_clears_reading_writing",
        "unmapped_window_faults", "double_unmap_bad_handle", "unknown_handle_bad_handle",
        "window_restored", "window_l1_entry_found", "map_by_pte", "map_by_pte_readable",
        "map_by_pte_content", "map_by_pte_misaligned", "unmap_by_pte", "unmap_by_pte_flags",
        "readonly_grant_rw_map_refused", "readonly_grant_flags_untouched", "readonly_map",
        "readonly_pte_not_writable", "readonly_map_readable", "readonly_map_write_faults",
        "readonly_map_reading_only", "readonly_unmap", "map_bad_domain", "map_bad_gntref",
        "map_no_host_map_flag", "map_revoked_grant", "map_grant_for_other_domain",
        "map_frame_not_granters", "bad_page_leaves_flags", "map_page_table_rw_refused",
        "map_page_table_ro", "unmap_page_table_ro", "map_unmapped_va", "map_hypervisor_va",
        "refusals_leave_ref8_idle", "map_bad_op_pointer_efault", "copy_gref_to_frame",
        "copy_gref_to_frame_content", "copy_frame_to_gref", "copy_frame_to_gref_content",
        "copy_gref_to_gref", "copy_to_readonly_grant", "copy_readonly_dest_unchanged",
        "copy_beyond_page", "copy_frame_needs_domid_self", "copy_frame_not_ours",
        "copy_leaves_no_pins", "set_trap_table"
    ],
    "hypercall_page": [
        "set_trap_table", "all_slots_match_first_bad", "iret_slot_layout", "xen_version_via_page",
        "pagesize_via_page", "console_io_via_page", "unknown_via_page_enosys", "iret_via_page",
        "iret_via_page_unmasks"
    ],
    "hypercall_storm": [
        "unknown_xen_version_op", "unknown_memory_op", "unknown_sched_op",
        "unknown_event_channel_op", "unknown_vcpu_op", "unknown_callback_op", "unknown_physdev_op",
        "unknown_console_io", "unknown_grant_table_op", "unknown_vm_assist_cmd",
        "unknown_mmuext_cmd", "send_free_port_einval", "send_port_4096_einval",
        "send_port_max_einval", "close_port0_einval", "close_port_5000_einval",
        "vcpu_is_up_1_enoent", "vcpu_is_up_8191_enoent", "vcpu_is_up_max_enoent",
        "singleshot_other_vcpu_enoent", "periodic_999us_einval", "vm_assist_type_33_einval",
        "set_gdt_7169_einval", "set_iopl_4_einval", "poll_129_ports_einval",
        "segbase_noncanonical_einval", "trap_table_noncanonical_einval", "trap_table_reinstall",
        "callback_unregister_event_einval", "get_debugreg_8", "set_debugreg_hv_address",
        "mmu_update_count0", "unmap_tail_page", "console_io_huge_count_returns",
        "console_io_huge_count_null", "remap_tail_page", "image_unchanged",
        "canary_unchanged_bad_words", "start_info_unchanged", "p2m_unchanged", "still_vcpu0_is_up",
        "console_still_works", "time_version_even_after", "register_event_callback",
        "bind_virq_timer_after", "singleshot_after", "timer_fires_after", "set_trap_table"
    ],
    "misc_hypercalls": [
        "multicall_rc", "multicall_result_version", "multicall_result_pagesize",
        "multicall_result_enosys", "multicall_result_console", "multicall_bad_list_efault",
        "stack_switch", "segbase_fs", "segbase_fs_msr", "segbase_gs_kernel",
        "segbase_gs_kernel_msr", "segbase_gs_user", "segbase_gs_user_msr", "vm_assist_enable_0",
        "vm_assist_enable_3", "vm_assist_enable_5", "vm_assist_disable_5", "set_iopl_1",
        "set_debugreg_dr0", "get_debugreg_dr0", "fpu_taskswitch_clear", "memory_map_rc",
        "memory_map_covers_nr_pages", "register_event_callback", "bind_virq_timer", "stop_periodic",
        "set_timer_op", "set_timer_op_fires", "set_timer_op_not_early", "set_timer_op_cancel",
        "sched_yield", "poll_timeout_rc", "poll_waited_for_timeout", "poll_pending_rc",
        "poll_pending_returns_early", "register_runstate_area", "runstate_state_running",
        "runstate_entry_time_set", "get_runstate_info", "get_runstate_state",
        "vcpu_info_bad_offset_enxio", "register_vcpu_info", "moved_mask_copied",
        "moved_upcall_pending", "moved_pending_sel_all", "moved_time_valid", "moved_time_advances",
        "register_vcpu_info_twice_einval", "set_trap_table"
    ],
    "priv_insn": [
        "cpuid_prefix_no_fault", "cpuid_40000000_ebx", "cpuid_40000000_ecx", "cpuid_40000000_edx",
        "cpuid_40000000_max_leaf", "cpuid_40000001_version", "cpuid_40000001_major_ge_4",
        "cpuid_40000002_pages", "cpuid_40000002_msr_base", "cpuid_40000002_preserve_ad",
        "cpuid_1_hypervisor_bit", "cpuid_1_ecx_hidden_monitor_vmx_pcid_x2apic_tscdl",
        "cpuid_1_edx_hidden_vme_pse_mtrr_pge_pse36", "cpuid_1_osxsave_matches_cr4",
        "cpuid_7_ebx_hidden_smep_invpcid_smap", "cpuid_7_ecx_hidden_umip_pku_la57",
        "cpuid_80000001_hidden_svm_page1gb", "plain_ud2_delivered", "rdmsr_pat", "rdmsr_apic_base",
        "rdmsr_efer_long_mode", "rdmsr_efer_svme_hidden", "wrmsr_efer_same_value",
        "rdmsr_hypercall_page_msr", "fs_base_roundtrip", "rdmsr_unknown_gp",
        "rdmsr_unknown_gp_error", "rdmsr_unknown_gp_rip", "wrmsr_unknown_gp",
        "wrmsr_unknown_gp_rip", "cr0_pe_pg", "fpu_taskswitch_set", "cr0_ts_after_fpu_taskswitch",
        "clts_no_fault", "cr0_ts_after_clts", "cr0_write_ts_no_fault", "cr0_write_ts_visible",
        "cr0_write_bad_gp", "cr0_write_bad_gp_rip", "cr0_unchanged_after_bad_write",
        "cr4_only_visible_bits", "cr4_pae", "cr3_is_pt_base_maddr", "cr2_write_sets_vcpu_info",
        "hlt_gp", "hlt_gp_rip", "lgdt_gp", "lgdt_gp_rip", "invlpg_gp", "invlpg_gp_rip",
        "wbinvd_no_fault", "clear_trap_table", "reinstall_trap_table", "gs_base_before_traps",
        "set_trap_table"
    ],
    "trap_bounce": [
        "int3_delivered", "int3_vector", "int3_rip_after_insn", "int3_cs_rpl_cleared",
        "int3_cs_saved_mask", "int3_rflags_if_clear", "int3_ss", "int3_frame_rcx", "int3_frame_r11",
        "int3_frame_rax", "iret_restores_rcx", "iret_restores_r11", "iret_rax_from_frame",
        "int3_frame_rsp", "mask_set_on_entry", "frame_if_when_unmasked", "frame_saved_mask_zero",
        "iret_if_set_unmasks", "iret_if_clear_masks", "iret_if_forced_unmasks", "ud_vector",
        "ud_rip_at_insn", "ud_cs_rpl_cleared", "gp_vector", "gp_rip_at_insn", "gp_error_code",
        "pf_read_vector", "pf_read_rip", "pf_read_error_code", "pf_read_cr2", "pf_write_error_code",
        "pf_write_cr2", "pf_protection_error_code", "pf_protection_cr2", "pf_us_bit_clear",
        "set_vector_0x80_dpl3", "set_vector_0x81_dpl0", "set_vector_0x83_dpl1", "int80_vector",
        "int80_rip_after", "int83_dpl1_vector", "int83_dpl1_rip_after", "int81_dpl0_gp",
        "int81_gp_error_code", "int81_gp_rip", "int82_unset_gp", "int82_gp_error_code",
        "int82_gp_rip", "set_trap_table"
    ],
    "writable_pt": [
        "pin_l1_while_writable_refused", "new_l1_readonly", "pin_l1", "pin_l1_twice_einval",
        "pinned_l1_writable_refused", "l1_entry_via_mmu_update", "l1_entry_stored",
        "spare_l2_slot_free", "hook_l1_into_l2", "new_mapping_readable", "new_mapping_content",
        "unhook_l1", "unhooked_faults", "unpin_l1", "unpinned_l1_writable_again",
        "preserve_ad_keeps_bits", "preserve_ad_rc", "direct_write_without_assist_pf",
        "direct_write_without_assist_error", "enable_writable_pagetables", "direct_write_emulated",
        "direct_write_stored", "invlpg_local", "direct_write_takes_effect",
        "direct_write_pt_rw_not_stored", "direct_write_restore", "tlb_flush_local",
        "window_restored", "disable_writable_pagetables", "set_trap_table"
    ],
    "ldt_failsafe": [
        "set_trap_table", "ldt_page_readonly", "set_ldt", "ldt_selector_loads_without_gp",
        "ldt_selector_in_ds", "ldt_entry_dpl_raised", "ldt_page_writable_refused",
        "ldt_descriptor_tss_refused", "ldt_beyond_limit_gp", "ldt_beyond_limit_error",
        "set_ldt_on_writable_page", "writable_ldt_page_gp", "writable_ldt_page_still_writable",
        "set_ldt_none", "ldt_page_writable_after_release", "register_failsafe",
        "failsafe_ldt_readonly", "failsafe_set_ldt", "no_failsafe_for_good_selector",
        "good_selector_kept", "descriptor_not_present", "failsafe_delivered_once",
        "failsafe_frame_ds", "failsafe_ds_now_null", "failsafe_ldt_release"
    ],
}
EXPECTED["hypercall_storm"] += (
    [f"unknown_hypercall_{n}" for n in ("b", "2d", "3c", "40", "3e8", "ffff")]
    + [f"efault_{op}_{p}" for p in _BAD_POINTERS for op in _EFAULT_OPS])


def parse_checks(output: str, guest: str) -> dict:
    checks = {}
    for name_guest, check, verdict in CHECK_LINE.findall(output):
        if name_guest == guest:
            assert check not in checks, f"check {check} reported twice"
            checks[check] = verdict
    return checks


@pytest.mark.parametrize("guest", sorted(EXPECTED))
def test_conformance_guest(guest):
    result = boot(guest_elf(guest), GUEST_ARGS.get(guest, ""), hv_args=HV_ARGS)
    assert_no_hv_panic(result)
    checks = parse_checks(result.output, guest)
    failed = [f"{name}: {verdict}" for name, verdict in checks.items() if verdict != "ok"]
    missing = [name for name in EXPECTED[guest] if name not in checks]
    problems = []
    if failed:
        problems.append("failed checks:\n  " + "\n  ".join(failed))
    if missing:
        problems.append("checks that never reported:\n  " + "\n  ".join(missing))
    done = [d for d in DONE_LINE.findall(result.output) if d[0] == guest]
    if not done:
        problems.append("no DONE line")
    elif (int(done[0][1]), int(done[0][2])) != (len(checks) - len(failed), len(failed)):
        problems.append(f"DONE line {done[0]} disagrees with the CHECK lines")
    if not result.exited:
        problems.append("QEMU did not exit by itself (timeout)")
    assert not problems, "\n".join(problems) + "\n" + result.describe()


def test_crash_unhandled():
    result = boot(guest_elf("crash_unhandled"), hv_args=HV_ARGS, timeout=60)
    assert_no_hv_panic(result)
    out = result.output
    assert "crash_unhandled: reading hypervisor memory" in out, result.describe()
    assert "AFTER-FAULT" not in out, "the guest ran past the faulting read\n" + result.describe()
    assert re.search(r"^\(HV\) .*crashed", out, re.M), "no crash line from the hypervisor\n" + result.describe()
    assert result.exited, "QEMU did not exit by itself\n" + result.describe()
