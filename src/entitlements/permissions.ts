/** The permission that makes a user an administrator of Custodian itself (seeded by store/migrations.ts). */
export const ADMIN_PERMISSION = 'admin'

/** The permission a House Mate controller's own user holds: only it may relay voice prints over HTTP. */
export const HOUSEMATE_CONTROLLER_PERMISSION = 'housemate_controller'
