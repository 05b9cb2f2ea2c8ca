"""Protocol-faithful local fakes of ERP APIs, all fed from :mod:`tests.fakes.dataset`."""
