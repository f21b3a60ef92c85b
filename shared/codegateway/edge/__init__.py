"""What both HTTP surfaces (web/ for key holders, admin_api/ for admins) share at their edge."""
