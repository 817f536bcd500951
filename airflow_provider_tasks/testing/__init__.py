"""Local emulators of the platforms' HTTP APIs, and pytest fixtures that serve them.

Used by tests, example DAGs and benchmarks; never imported by the provider's runtime code, and
importing nothing from it in turn (an emulator is an independent fake of the remote API).

* :mod:`.server` -- the platform-agnostic core (:class:`~.server.EmulatorServer`), with
  :mod:`.clock`, :mod:`.faults` (fault switches, request stats), :mod:`.control`
  (``/_emulator/`` endpoints), :mod:`.lifecycle` (runs whose status is a function of the clock),
  :mod:`.ids` (random and stable ids) and :mod:`.query` (query-string numbers and booleans).
* :mod:`.apify_emulator` -- :class:`~.apify_emulator.ApifyEmulator`, the Apify API v2
  (objects in :mod:`.apify_models`, registry in :mod:`.apify_state`, handlers in
  :mod:`.apify_routes`, query rules in :mod:`.apify_params`, generated items in :mod:`.apify_items`).
* :mod:`.lobstr_emulator` -- :class:`~.lobstr_emulator.LobstrEmulator`, the Lobstr.io API v1
  (squids and tasks in :mod:`.lobstr_models`, runs in :mod:`.lobstr_runs`, result rows in
  :mod:`.lobstr_results`, registry and seed data in :mod:`.lobstr_state`, handlers in
  :mod:`.lobstr_routes`, paging in :mod:`.lobstr_params`).
* :mod:`.pytest_plugin` -- fixtures ``apify_emulator_server``, ``apify_emulator``, ``apify_conn_env``
  and ``lobstr_emulator_server``, ``lobstr_emulator``, ``lobstr_conn_env``.
"""
